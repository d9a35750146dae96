// /v2.0/agents: each host's network agents as Neutron shows them (types, binaries, topics, zones, liveness from
// heartbeats), admin-only reads and writes (others get an empty list and 404s), update and delete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reportAgentHeartbeat } from '../../../src/services/network/domain/agents.ts';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
const host = uniqueName('net-host');

interface Agent {
  id: string;
  agent_type: string;
  binary: string;
  host: string;
  [k: string]: unknown;
}

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
  await reportAgentHeartbeat(tc.cloud.network.context, host);
});
after(async () => {
  await tc.close();
});

async function agentsOf(h: string): Promise<Agent[]> {
  const res = await neutron(tc, 'GET', `/agents?host=${h}`, { token: tc.adminToken });
  assert.equal(res.status, 200, res.text);
  return res.body.agents as Agent[];
}

describe('network agents', () => {
  test("a host's four agents with Neutron's types, binaries, topics and zones", async () => {
    const agents = await agentsOf(host);
    const byBinary = new Map(agents.map((a) => [a.binary, a]));
    assert.deepEqual([...byBinary.keys()].sort(), [
      'neutron-dhcp-agent',
      'neutron-l3-agent',
      'neutron-linuxbridge-agent',
      'neutron-metadata-agent',
    ]);
    const expect: Record<string, [string, string, string | null]> = {
      'neutron-linuxbridge-agent': ['Linux bridge agent', 'N/A', null],
      'neutron-dhcp-agent': ['DHCP agent', 'dhcp_agent', 'nova'],
      'neutron-l3-agent': ['L3 agent', 'l3_agent', 'nova'],
      'neutron-metadata-agent': ['Metadata agent', 'N/A', null],
    };
    for (const [binary, [type, topic, zone]] of Object.entries(expect)) {
      const a = byBinary.get(binary)!;
      assert.equal(a.agent_type, type);
      assert.equal(a['topic'], topic);
      assert.equal(a['availability_zone'], zone);
      assert.equal(a.host, host);
      assert.equal(a['alive'], true);
      assert.equal(a['admin_state_up'], true);
      assert.equal(a['description'], null);
      assert.deepEqual(a['configurations'], {});
      assert.deepEqual(a['resource_versions'], {});
      assert.equal(a['resources_synced'], null);
      for (const k of ['created_at', 'started_at', 'heartbeat_timestamp'])
        assert.match(String(a[k]), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, k);
    }
    const one = await neutron(tc, 'GET', `/agents/${byBinary.get('neutron-l3-agent')!.id}`, {
      token: tc.adminToken,
    });
    assert.deepEqual(one.body.agent, byBinary.get('neutron-l3-agent'));
  });

  test('filters: agent_type, binary, alive, availability_zone; unknown filters are refused', async () => {
    const dhcp = await neutron(tc, 'GET', `/agents?host=${host}&agent_type=DHCP%20agent`, {
      token: tc.adminToken,
    });
    assert.deepEqual(
      dhcp.body.agents.map((a: Agent) => a.binary),
      ['neutron-dhcp-agent'],
    );
    const zoned = await neutron(tc, 'GET', `/agents?host=${host}&availability_zone=nova`, {
      token: tc.adminToken,
    });
    assert.equal(zoned.body.agents.length, 2);
    const dead = await neutron(tc, 'GET', `/agents?host=${host}&alive=false`, { token: tc.adminToken });
    assert.deepEqual(dead.body.agents, []);
    expectNeutronError(
      await neutron(tc, 'GET', '/agents?colour=red', { token: tc.adminToken }),
      400,
      'HTTPBadRequest',
      "['colour'] is invalid attribute for filtering",
    );
  });

  test('an agent without a heartbeat for longer than agent_down_time is not alive; a heartbeat revives it', async () => {
    const h = uniqueName('quiet-host');
    const cx = tc.cloud.network.context;
    await reportAgentHeartbeat(cx, h, ['neutron-dhcp-agent']);
    const [before] = await agentsOf(h);
    const old = new Date(Date.now() - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await cx.db
      .updateTable('network_agents')
      .set({ heartbeat_timestamp: old })
      .where('host', '=', h)
      .execute();
    const [stale] = await agentsOf(h);
    assert.equal(stale!['alive'], false);
    const dead = await neutron(tc, 'GET', `/agents?host=${h}&alive=false`, { token: tc.adminToken });
    assert.equal(dead.body.agents.length, 1);
    await reportAgentHeartbeat(cx, h, ['neutron-dhcp-agent']);
    const [revived] = await agentsOf(h);
    assert.equal(revived!['alive'], true);
    assert.equal(revived!.id, before!.id, 'the same agent, not a new one');
  });

  test('update admin_state_up and description; read-only attributes are refused', async () => {
    const [a] = await agentsOf(host);
    const res = await neutron(tc, 'PUT', `/agents/${a!.id}`, {
      token: tc.adminToken,
      body: { agent: { admin_state_up: false, description: 'maintenance' } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.agent.admin_state_up, false);
    assert.equal(res.body.agent.description, 'maintenance');
    const shown = await neutron(tc, 'GET', `/agents/${a!.id}`, { token: tc.adminToken });
    assert.equal(shown.body.agent.description, 'maintenance');
    const back = await neutron(tc, 'PUT', `/agents/${a!.id}`, {
      token: tc.adminToken,
      body: { agent: { admin_state_up: 'true', description: null } },
    });
    assert.equal(back.body.agent.admin_state_up, true);
    assert.equal(back.body.agent.description, null);
    expectNeutronError(
      await neutron(tc, 'PUT', `/agents/${a!.id}`, { token: tc.adminToken, body: { agent: { host: 'x' } } }),
      400,
      'HTTPBadRequest',
      'Cannot update read-only attribute host',
    );
  });

  test('non-admins see no agents and get 404s; unknown ids are AgentNotFound', async () => {
    const list = await neutron(tc, 'GET', '/agents', { token: alice.token });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.agents, []);
    const [a] = await agentsOf(host);
    expectNeutronError(
      await neutron(tc, 'GET', `/agents/${a!.id}`, { token: alice.token }),
      404,
      'HTTPNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/agents/${a!.id}`, {
        token: alice.token,
        body: { agent: { description: 'x' } },
      }),
      404,
      'HTTPNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/agents/${a!.id}`, { token: alice.token }),
      404,
      'HTTPNotFound',
    );
    const missing = '2b6e1a5c-5a43-4c3b-9d1e-0f6d1c1a2b3c';
    expectNeutronError(
      await neutron(tc, 'GET', `/agents/${missing}`, { token: tc.adminToken }),
      404,
      'AgentNotFound',
      `Agent ${missing} could not be found.`,
    );
  });

  test('delete removes an agent; its next heartbeat registers it again', async () => {
    const h = uniqueName('gone-host');
    const cx = tc.cloud.network.context;
    await reportAgentHeartbeat(cx, h, ['neutron-metadata-agent']);
    const [a] = await agentsOf(h);
    assert.equal((await neutron(tc, 'DELETE', `/agents/${a!.id}`, { token: tc.adminToken })).status, 204);
    expectNeutronError(
      await neutron(tc, 'GET', `/agents/${a!.id}`, { token: tc.adminToken }),
      404,
      'AgentNotFound',
    );
    await reportAgentHeartbeat(cx, h, ['neutron-metadata-agent']);
    const [again] = await agentsOf(h);
    assert.notEqual(again!.id, a!.id);
  });

  test('the agent extension is listed', async () => {
    const ext = await neutron(tc, 'GET', '/extensions/agent', { token: alice.token });
    assert.equal(ext.status, 200, ext.text);
  });
});

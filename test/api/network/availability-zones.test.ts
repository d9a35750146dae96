// /v2.0/availability_zones: 'nova' for networks (DHCP agents) and routers (L3 agents), its state following the
// agents' admin_state_up, with filters; any authenticated caller may list them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reportAgentHeartbeat } from '../../../src/services/network/domain/agents.ts';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

const zones = async (query = '') => {
  const res = await neutron(tc, 'GET', `/availability_zones${query}`, { token: alice.token });
  assert.equal(res.status, 200, res.text);
  return res.body.availability_zones as { name: string; resource: string; state: string }[];
};

describe('availability zones', () => {
  test('nova is available for networks and routers; filters select by resource and state', async () => {
    await reportAgentHeartbeat(tc.cloud.network.context, uniqueName('az-host'));
    assert.deepEqual(await zones(), [
      { name: 'nova', resource: 'network', state: 'available' },
      { name: 'nova', resource: 'router', state: 'available' },
    ]);
    assert.deepEqual(await zones('?resource=router'), [
      { name: 'nova', resource: 'router', state: 'available' },
    ]);
    assert.deepEqual(await zones('?state=unavailable'), []);
    assert.deepEqual(await zones('?name=elsewhere'), []);
    expectNeutronError(
      await neutron(tc, 'GET', '/availability_zones?size=big', { token: alice.token }),
      400,
      'HTTPBadRequest',
    );
  });

  test('a zone whose DHCP agents are all disabled is unavailable for networks', async () => {
    const agents = await neutron(tc, 'GET', '/agents?agent_type=DHCP%20agent', { token: tc.adminToken });
    assert.ok(agents.body.agents.length > 0);
    for (const a of agents.body.agents)
      await neutron(tc, 'PUT', `/agents/${a.id}`, {
        token: tc.adminToken,
        body: { agent: { admin_state_up: false } },
      });
    assert.deepEqual(await zones('?resource=network'), [
      { name: 'nova', resource: 'network', state: 'unavailable' },
    ]);
    assert.deepEqual(await zones('?resource=router'), [
      { name: 'nova', resource: 'router', state: 'available' },
    ]);
    for (const a of agents.body.agents)
      await neutron(tc, 'PUT', `/agents/${a.id}`, {
        token: tc.adminToken,
        body: { agent: { admin_state_up: true } },
      });
    assert.equal((await zones('?resource=network'))[0]!.state, 'available');
  });
});

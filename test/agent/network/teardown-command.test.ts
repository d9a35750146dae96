// `monostack network teardown`: removes the data plane a stopped cloud left (namespaces, dnsmasq), and refuses while
// the cloud of that data directory is running.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { STATE_FILE } from '../../../src/cmd/manage.ts';
import { runNetworkTeardown } from '../../../src/cmd/network.ts';
import { dhcpPort, network, subnet } from './fixtures.ts';
import { dataplaneSkip, listNamespaces, Sandbox, sh } from './support.ts';

describe('monostack network teardown', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const net = network([subnet('10.61.0.0/24', '10.61.0.1')]);
  let dataDir = '';
  const mine = async () => (await listNamespaces()).filter((n) => n.startsWith(sb.prefix));

  before(async () => {
    await sb.init();
    dataDir = await mkdtemp(join(tmpdir(), 'monostack-teardown-'));
    await writeFile(
      join(dataDir, 'monostack.yaml'),
      stringify({ network: { prefix: sb.prefix, state_dir: sb.stateDir } }),
    );
    sb.cp.state = { networks: [net], ports: [dhcpPort(net, '10.61.0.2')], routers: [], securityGroups: [] };
    const agent = sb.agent();
    const report = await agent.reconcile();
    assert.deepEqual(report.errors, []);
    await agent.stop();
  });
  after(async () => {
    await sb.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses while the cloud of the data directory runs', async () => {
    await writeFile(
      join(dataDir, STATE_FILE),
      JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1' }),
    );
    try {
      assert.equal(await runNetworkTeardown({ dataDir }), 1);
      assert.ok((await mine()).length >= 2, 'nothing may be removed');
    } finally {
      await rm(join(dataDir, STATE_FILE), { force: true });
    }
  });

  it('removes the namespaces and stops dnsmasq once it is stopped', async () => {
    const pid = Number((await readFile(join(sb.stateDir, 'dhcp', net.id, 'dnsmasq.pid'), 'utf8')).trim());
    assert.ok((await mine()).length >= 2);
    assert.equal(await runNetworkTeardown({ dataDir }), 0);
    assert.deepEqual(await mine(), []);
    const stat = (await sh('ps', ['-o', 'stat=', '-p', String(pid)]).catch(() => '')).trim();
    assert.match(stat, /^(Z.*)?$/, `dnsmasq ${pid} still runs (${stat})`);
  });
});

// The fake network agent: bound ports go ACTIVE on reconcile and plug, DOWN on unplug; nothing on the host.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeNetworkAgent } from '../../../src/agent/network/fake-agent.ts';
import { dhcpPort, network, port, router, routerPort, subnet } from './fixtures.ts';
import { MemoryNetworkControlPlane } from './memory-control-plane.ts';

describe('FakeNetworkAgent', () => {
  it('reports bound and router ports ACTIVE once, plugs ACTIVE, unplugs DOWN, and follows changes', async () => {
    const cp = new MemoryNetworkControlPlane();
    const net = network([subnet('10.0.0.0/24', '10.0.0.1')]);
    const vm = port(net, '10.0.0.5');
    const elsewhere = port(net, '10.0.0.6', { boundHere: false });
    const ri = routerPort(net, '10.0.0.1');
    cp.state = {
      networks: [net],
      ports: [vm, elsewhere, dhcpPort(net, '10.0.0.2')],
      routers: [router({ interfaces: [ri.entry] })],
      securityGroups: [],
    };
    const agent = new FakeNetworkAgent({ host: 'h', controlPlane: cp });
    await agent.start();
    assert.equal(cp.statuses.get(vm.id), 'ACTIVE');
    assert.equal(cp.statuses.get(ri.port.id), 'ACTIVE');
    assert.equal(cp.statuses.has(elsewhere.id), false);
    const n = cp.statusLog.length;
    await agent.reconcile();
    assert.equal(cp.statusLog.length, n, 'nothing is reported twice');

    const late = port(net, '10.0.0.7');
    await agent.plug({ portId: late.id, device: 'tapx', networkId: net.id, macAddress: late.macAddress });
    assert.equal(cp.statuses.get(late.id), 'ACTIVE');
    await agent.unplug(late.id);
    assert.equal(cp.statuses.get(late.id), 'DOWN');

    const added = port(net, '10.0.0.8');
    cp.state.ports.push(added);
    cp.changed();
    await agent.reconcile();
    assert.equal(cp.statuses.get(added.id), 'ACTIVE');
    await agent.stop();
  });

  it('answers a burst of changes within one turn of the event loop with one pass', async () => {
    const cp = new MemoryNetworkControlPlane();
    const net = network([subnet('10.0.0.0/24', '10.0.0.1')]);
    cp.state = { networks: [net], ports: [], routers: [], securityGroups: [] };
    let passes = 0;
    const read = cp.desiredState.bind(cp);
    cp.desiredState = (host: string) => {
      passes++;
      return read(host);
    };
    const agent = new FakeNetworkAgent({ host: 'h', controlPlane: cp });
    await agent.start();
    passes = 0;
    const added = Array.from({ length: 20 }, (_, i) => port(net, `10.0.0.${10 + i}`));
    // Changes from separate writes of one turn (each settles its own promises before the next).
    for (const p of added) {
      cp.state.ports.push(p);
      cp.changed();
      for (let i = 0; i < 20; i++) await null;
    }
    await new Promise((r) => setImmediate(r));
    await agent.reconcile();
    assert.ok(passes <= 2, `${passes} passes for one burst`);
    for (const p of added) assert.equal(cp.statuses.get(p.id), 'ACTIVE');
    await agent.stop();
  });
});

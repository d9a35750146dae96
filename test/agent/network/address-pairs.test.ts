// Allowed address pairs as pairs: a pair's address may be sent only with that pair's MAC, the port's own addresses
// only with its own MAC; overlapping prefixes of one MAC collapse (the nft interval set would reject them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { macIpPairs } from '../../../src/agent/network/render/mac-ip-pairs.ts';
import { defaultGroup, network, port, rule, subnet } from './fixtures.ts';
import { dataplaneSkip, inNs, ping, Sandbox, sh } from './support.ts';

const M1 = 'fa:16:3e:00:00:01';
const M2 = 'fa:16:3e:00:00:02';

describe('MAC/IP pairs of a port', () => {
  const net = network([subnet('10.30.0.0/24', '10.30.0.1')]);

  it('joins each pair’s address to its own MAC (the port’s when it names none)', () => {
    const p = port(net, '10.30.0.5', {
      macAddress: M1.toUpperCase(),
      allowedAddressPairs: [{ ipAddress: '10.30.0.9', macAddress: M2 }, { ipAddress: '10.30.0.64/26' }],
    });
    assert.deepEqual(macIpPairs(p).v4, [
      `${M1} . 0.0.0.0`,
      `${M1} . 10.30.0.5`,
      `${M1} . 10.30.0.64/26`,
      `${M2} . 0.0.0.0`,
      `${M2} . 10.30.0.9`,
    ]);
    assert.ok(
      macIpPairs(p).v6.includes(`${M2} . fe80::f816:3eff:fe00:2`),
      'each MAC has its link-local address',
    );
  });

  it('drops what a wider prefix of the same MAC covers, and normalises host bits', () => {
    const p = port(net, '10.30.0.5', {
      macAddress: M1,
      allowedAddressPairs: [{ ipAddress: '10.30.0.7/24' }, { ipAddress: '0.0.0.0/0', macAddress: M2 }],
    });
    assert.deepEqual(macIpPairs(p).v4, [`${M1} . 0.0.0.0`, `${M1} . 10.30.0.0/24`, `${M2} . 0.0.0.0/0`]);
  });
});

describe('network agent: allowed address pairs on the wire', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const net = network([subnet('10.30.0.0/24', '10.30.0.1', { enableDhcp: false })]);
  const open = defaultGroup();
  open.rules.push(rule({ direction: 'ingress' }));
  const a = port(net, '10.30.0.5', {
    macAddress: M1,
    securityGroupIds: [open.id],
    allowedAddressPairs: [{ ipAddress: '10.30.0.9', macAddress: M2 }],
  });
  const b = port(net, '10.30.0.6', { portSecurityEnabled: false });
  let aNs = '';
  let bNs = '';

  before(async () => {
    await sb.init();
    sb.cp.state = { networks: [net], ports: [a, b], routers: [], securityGroups: [open] };
    const agent = sb.agent();
    await agent.start();
    for (const p of [a, b]) {
      const vm = await sb.vm(p === a ? 'a' : 'b', p);
      await agent.plug({ portId: p.id, device: vm.tap, networkId: net.id, macAddress: p.macAddress });
      if (p === a) aNs = vm.ns;
      else bNs = vm.ns;
    }
    await sh('ip', ['-n', aNs, 'addr', 'add', '10.30.0.5/24', 'dev', 'eth0']);
    await sh('ip', ['-n', bNs, 'addr', 'add', '10.30.0.6/24', 'dev', 'eth0']);
  });
  after(() => sb.cleanup());

  /** Pings b from a with `source` as the only address of a's eth0, whose MAC is `mac`. */
  async function pingFrom(source: string, mac: string): Promise<boolean> {
    await sh('ip', ['-n', aNs, 'addr', 'flush', 'dev', 'eth0']);
    await sh('ip', ['-n', aNs, 'link', 'set', 'eth0', 'address', mac]);
    await sh('ip', ['-n', aNs, 'addr', 'add', `${source}/24`, 'dev', 'eth0']);
    await sh('ip', ['-n', bNs, 'neigh', 'flush', 'dev', 'eth0']);
    await inNs(aNs, 'ip', ['neigh', 'flush', 'dev', 'eth0']);
    return ping(aNs, '10.30.0.6');
  }

  it('lets the pair’s address out only with the pair’s MAC, and the port’s own only with its own', async () => {
    assert.ok(await pingFrom('10.30.0.5', M1), 'own address, own MAC');
    assert.ok(await pingFrom('10.30.0.9', M2), 'pair address, pair MAC');
    assert.equal(await pingFrom('10.30.0.9', M1), false, 'pair address with the port’s MAC');
    assert.equal(await pingFrom('10.30.0.5', M2), false, 'own address with the pair’s MAC');
  });
});

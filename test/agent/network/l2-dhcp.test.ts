// Two VMs on one network: plugged taps, static DHCP leases with the right options, and traffic between them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultGroup, dhcpPort, network, port, subnet } from './fixtures.ts';
import { dataplaneSkip, ping, Sandbox, sh } from './support.ts';

describe('network agent: L2 and DHCP', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const sn = subnet('10.10.0.0/24', '10.10.0.1', { dnsNameservers: ['192.0.2.53'] });
  const net = network([sn]);
  const sg = defaultGroup(['10.10.0.11', '10.10.0.12']);
  const vm1 = port(net, '10.10.0.11', { securityGroupIds: [sg.id], hostname: 'vm-one' });
  const vm2 = port(net, '10.10.0.12', { securityGroupIds: [sg.id] });
  const dhcp = dhcpPort(net, '10.10.0.2');

  before(async () => {
    await sb.init();
    sb.cp.state = { networks: [net], ports: [vm1, vm2, dhcp], routers: [], securityGroups: [sg] };
  });
  after(() => sb.cleanup());

  it('wires plugged taps, serves exact leases, and lets the VMs talk', async (t) => {
    const agent = sb.agent({ plugWaitMs: 600 });
    await agent.start();
    assert.equal(
      sb.cp.statuses.get(dhcp.id),
      'ACTIVE',
      'the DHCP port is ACTIVE once its namespace is wired',
    );
    assert.equal(sb.cp.statuses.get(vm1.id), 'DOWN', 'a bound port without a device is DOWN');

    const a = await sb.vm('vm1', vm1);
    const b = await sb.vm('vm2', vm2);
    const t0 = performance.now();
    await agent.plug({ portId: vm1.id, device: a.tap, networkId: net.id, macAddress: vm1.macAddress });
    const plugMs = Math.round(performance.now() - t0);
    await agent.plug({ portId: vm2.id, device: b.tap, networkId: net.id, macAddress: vm2.macAddress });
    assert.equal(sb.cp.statuses.get(vm1.id), 'ACTIVE');
    assert.equal(sb.cp.statuses.get(vm2.id), 'ACTIVE');
    const onBridge = JSON.parse(
      await sh('ip', ['-n', `${sb.prefix}n-${net.id}`, '-j', 'link', 'show', 'master', 'br0']),
    ) as {
      ifname: string;
    }[];
    assert.ok(onBridge.some((l) => l.ifname === a.tap) && onBridge.some((l) => l.ifname === b.tap));

    const l1 = await sb.dhcp(a.ns);
    const l2 = await sb.dhcp(b.ns);
    t.diagnostic(`plug→wired ${plugMs} ms; DHCP lease ${l1.ms} ms / ${l2.ms} ms`);
    assert.equal(l1.env['ip'], '10.10.0.11');
    assert.equal(l2.env['ip'], '10.10.0.12');
    assert.equal(l1.env['mask'], '24');
    assert.equal(l1.env['hostname'], 'vm-one');
    assert.equal(l1.env['mtu'], '1500');
    assert.equal(l1.env['dns'], '192.0.2.53');
    assert.equal(l1.env['staticroutes'], '169.254.169.254/32 10.10.0.2 0.0.0.0/0 10.10.0.1');

    assert.ok(await ping(a.ns, '10.10.0.12'), 'vm1 → vm2');
    assert.ok(await ping(b.ns, '10.10.0.11'), 'vm2 → vm1');
    // The DHCP namespace is not in the group: default-deny ingress keeps it out.
    assert.equal(await ping(`${sb.prefix}dhcp-${net.id}`, '10.10.0.11'), false);
  });

  it('refuses a port not bound here and keeps spoofed sources off the wire', async () => {
    const agent = sb.agents[0]!;
    const stranger = port(net, '10.10.0.13', { securityGroupIds: [sg.id], boundHere: false });
    const s = await sb.vm('stranger', stranger);
    // Not in the desired state as bound here: plug refuses it (after retrying).
    await assert.rejects(
      agent.plug({ portId: stranger.id, device: s.tap, networkId: net.id, macAddress: stranger.macAddress }),
      /not bound to host/,
    );
    // vm2 claims vm1's address: port security drops it.
    const vm2ns = `${sb.stem}_vm2`;
    await sh('ip', ['-n', vm2ns, 'addr', 'add', '10.10.0.99/24', 'dev', 'eth0']);
    assert.equal(
      await sh('ip', [
        'netns',
        'exec',
        vm2ns,
        'busybox',
        'ping',
        '-c',
        '1',
        '-W',
        '1',
        '-I',
        '10.10.0.99',
        '10.10.0.11',
      ]).then(
        () => true,
        () => false,
      ),
      false,
    );
    assert.ok(await ping(vm2ns, '10.10.0.11'), 'its own address still works');
  });

  it('unplugs: the device leaves the bridge and the port goes DOWN', async () => {
    const agent = sb.agents[0]!;
    await agent.plug({
      portId: vm1.id,
      device: `tap${vm1.id.slice(0, 11)}`,
      networkId: net.id,
      macAddress: vm1.macAddress,
    });
    await agent.unplug(vm2.id);
    assert.equal(sb.cp.statuses.get(vm2.id), 'DOWN');
    assert.equal(sb.cp.statuses.get(vm1.id), 'ACTIVE', 'plugging again is a no-op');
    const links = JSON.parse(await sh('ip', ['-n', `${sb.prefix}n-${net.id}`, '-j', 'link', 'show'])) as {
      ifname: string;
    }[];
    assert.ok(!links.some((l) => l.ifname === `tap${vm2.id.slice(0, 11)}`));
    assert.equal(await ping(`${sb.stem}_vm1`, '10.10.0.12'), false);
  });
});

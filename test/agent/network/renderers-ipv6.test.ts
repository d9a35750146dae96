// Renderers for IPv6 and stateless groups: DHCPv6 ranges/hosts/options, router advertisements, untracked ports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DpSecurityGroup } from '../../../src/agent/network/desired-state.ts';
import {
  dhcpSubnets,
  dnsmasqArgv,
  renderDhcpHosts,
  renderDhcpOpts,
} from '../../../src/agent/network/render/dnsmasq-config.ts';
import { raContexts, raDnsmasqArgv, renderRaFilter } from '../../../src/agent/network/render/router-ra.ts';
import { isStateless, renderSecurityGroupTable } from '../../../src/agent/network/render/sg-table.ts';
import { dhcpPort, network, port, router, routerPort, rule, subnet } from './fixtures.ts';

const v6 = (cidr: string, gw: string, modes: Parameters<typeof subnet>[2] = {}) =>
  subnet(cidr, gw, { ipVersion: 6, ...modes });

describe('DHCPv6 (the DHCP namespace)', () => {
  const stateful = v6('2001:db8:1::/64', '2001:db8:1::1', {
    ipv6RaMode: 'dhcpv6-stateful',
    ipv6AddressMode: 'dhcpv6-stateful',
    dnsNameservers: ['2001:db8::53', '192.0.2.53'],
  });
  const stateless = v6('2001:db8:2::/64', '2001:db8:2::1', {
    ipv6RaMode: 'dhcpv6-stateless',
    ipv6AddressMode: 'dhcpv6-stateless',
  });
  const slaac = v6('2001:db8:3::/64', '2001:db8:3::1', { ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' });
  const unset = v6('2001:db8:4::/64', '2001:db8:4::1');
  const short = v6('2001:db8:5::/56', '2001:db8:5::1');
  const net = network([stateful, stateless, slaac, unset, short]);
  const vm = port(net, '2001:db8:1::5', { macAddress: 'fa:16:3e:00:00:05' });
  vm.fixedIps.push(
    { subnetId: stateless.id, ipAddress: '2001:db8:2::f816:3eff:fe00:5' },
    { subnetId: slaac.id, ipAddress: '2001:db8:3::f816:3eff:fe00:5' },
  );

  it('serves stateful, stateless and mode-less subnets of /64 or longer, as Neutron does; never SLAAC', () => {
    assert.deepEqual(
      dhcpSubnets(net).map((s) => s.id),
      [stateful.id, stateless.id, unset.id],
    );
    const argv = dnsmasqArgv(net, 'ns-x', { hosts: 'H', opts: 'O', leases: 'L', pid: 'P', log: 'G' }, 600);
    assert.ok(argv.includes(`--dhcp-range=set:s-${stateful.id},2001:db8:1::,static,64,600s`));
    assert.ok(argv.includes(`--dhcp-range=set:s-${stateless.id},2001:db8:2::,static,64,600s`));
    assert.ok(!argv.some((a) => a.includes('2001:db8:3::') || a.includes('2001:db8:5::')));
    assert.ok(!argv.includes('--enable-ra'), 'RAs come from the router');
  });

  it('leases the stateful addresses by MAC, in brackets; none for stateless or SLAAC', () => {
    assert.equal(renderDhcpHosts(net, [vm]), 'fa:16:3e:00:00:05,host-2001-db8-1--5,[2001:db8:1::5]\n');
  });

  it('sends IPv6 DNS servers as option6, and no IPv4 options on IPv6 subnets', () => {
    const opts = renderDhcpOpts(net, dhcpPort(net, '2001:db8:1::2'));
    assert.ok(opts.includes(`tag:s-${stateful.id},option6:dns-server,[2001:db8::53]\n`));
    assert.ok(!opts.includes('option:router'));
    assert.ok(!opts.includes('192.0.2.53'));
  });
});

describe('router advertisements (the router namespace)', () => {
  const modes = ['slaac', 'dhcpv6-stateless', 'dhcpv6-stateful'] as const;
  const nets = modes.map((m, i) =>
    network([v6(`2001:db8:${i + 1}::/64`, `2001:db8:${i + 1}::1`, { ipv6RaMode: m, ipv6AddressMode: m })], {
      mtu: 1450,
    }),
  );
  const noRa = network([v6('2001:db8:9::/64', '2001:db8:9::1', { ipv6AddressMode: 'slaac' })]);
  const v4 = network([subnet('10.0.0.0/24', '10.0.0.1')]);
  const ifaces = [...nets, noRa, v4].map((n) => {
    const e = routerPort(n, n.subnets[0]!.gatewayIp!).entry;
    return e;
  });
  const r = router({ interfaces: ifaces });

  it('advertises each subnet with an ra_mode on its qr- device: A, A+O, or M+O', () => {
    const ctxs = raContexts(r, [...nets, noRa, v4]);
    assert.deepEqual(ctxs.map((c) => c.mode).sort(), [...modes].sort());
    const argv = raDnsmasqArgv(ctxs, { pid: 'P', log: 'G' })!;
    assert.ok(argv.includes('--enable-ra'));
    const dev = (i: number) => `qr-${ifaces[i]!.portId.slice(0, 11)}`;
    assert.ok(
      argv.includes(`--dhcp-range=set:ra-${nets[0]!.subnets[0]!.id},::,constructor:${dev(0)},ra-only,64`),
    );
    assert.ok(
      argv.includes(
        `--dhcp-range=set:ra-${nets[1]!.subnets[0]!.id},::,constructor:${dev(1)},ra-stateless,64`,
      ),
    );
    assert.ok(
      argv.includes(`--dhcp-range=set:ra-${nets[2]!.subnets[0]!.id},::,constructor:${dev(2)},static,64`),
    );
    assert.ok(argv.includes(`--ra-param=${dev(0)},mtu:1450,30`));
    assert.ok(
      !argv.some((a) => a.includes(dev(3)) || a.includes(dev(4))),
      'no RA without ra_mode, none on IPv4',
    );
    assert.match(renderRaFilter(ctxs)!, /udp dport 547 drop/);
  });

  it('runs nothing for a router without IPv6 RA subnets', () => {
    const ctxs = raContexts(router({ interfaces: [ifaces[3]!, ifaces[4]!] }), [noRa, v4]);
    assert.equal(raDnsmasqArgv(ctxs, { pid: 'P', log: 'G' }), undefined);
    assert.equal(renderRaFilter(ctxs), undefined);
  });
});

describe('stateless security groups', () => {
  const net = network([subnet('10.0.0.0/24', '10.0.0.1')]);
  const sl: DpSecurityGroup = {
    id: 'sl',
    stateful: false,
    memberIps: [],
    rules: [rule({ protocol: 'tcp' })],
  };
  const sf: DpSecurityGroup = { id: 'sf', stateful: true, memberIps: [], rules: [rule({ protocol: 'tcp' })] };
  const groups = new Map([
    ['sl', sl],
    ['sf', sf],
  ]);
  const a = port(net, '10.0.0.5', { id: 'pa', securityGroupIds: ['sl'] });
  const b = port(net, '10.0.0.6', { id: 'pb', securityGroupIds: ['sf'] });

  it('leaves the stateless ports’ packets untracked before conntrack, and only theirs', () => {
    assert.equal(isStateless(a, groups), true);
    assert.equal(isStateless(b, groups), false);
    assert.equal(isStateless(port(net, '10.0.0.7', { securityGroupIds: [] }), groups), false);
    const body = renderSecurityGroupTable([a, b], groups)!;
    assert.match(
      body,
      /chain untracked \{\n {4}type filter hook prerouting priority raw; policy accept;\n {4}ip saddr @p4-pa notrack\n {4}ip daddr @p4-pa notrack\n {4}ip6 saddr @p6-pa notrack\n {4}ip6 daddr @p6-pa notrack\n {2}\}/,
    );
    assert.ok(!/@p[46]-pb notrack/.test(body));
    assert.ok(
      !renderSecurityGroupTable([b], groups)!.includes('untracked'),
      'no raw chain when all are stateful',
    );
  });
});

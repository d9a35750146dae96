// The pure renderers: security-group and anti-spoofing nftables, router NAT, dnsmasq files/argv, haproxy config.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linkLocalOf } from '../../../src/agent/network/ip-math.ts';
import { replaceTableScript } from '../../../src/agent/network/linux/nftables.ts';
import { namespaceName, parseNamespace, uplinkPeerName } from '../../../src/agent/network/naming.ts';
import {
  dnsmasqArgv,
  renderDhcpHosts,
  renderDhcpOpts,
} from '../../../src/agent/network/render/dnsmasq-config.ts';
import { renderHaproxyConfig } from '../../../src/agent/network/render/haproxy-config.ts';
import { renderPortSecurityTable } from '../../../src/agent/network/render/port-security.ts';
import { renderRouterNat } from '../../../src/agent/network/render/router-nat.ts';
import { protocolNumber, ruleMatch } from '../../../src/agent/network/render/sg-rules.ts';
import { renderSecurityGroupTable } from '../../../src/agent/network/render/sg-table.ts';
import { dhcpPort, network, port, router, routerPort, rule, subnet } from './fixtures.ts';

describe('security group rules', () => {
  it('renders protocols by name or number, port ranges, ICMP type/code and remotes', () => {
    assert.equal(
      ruleMatch(
        rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '192.0.2.7/24' }),
      ),
      'meta nfproto ipv4 ip saddr 192.0.2.0/24 meta l4proto 6 th dport 22',
    );
    assert.equal(
      ruleMatch(rule({ direction: 'egress', protocol: '17', portRangeMin: 1000, portRangeMax: 2000 })),
      'meta nfproto ipv4 meta l4proto 17 th dport 1000-2000',
    );
    assert.equal(
      ruleMatch(rule({ protocol: 'tcp', portRangeMin: 1, portRangeMax: 65535 })),
      'meta nfproto ipv4 meta l4proto 6',
    );
    assert.equal(
      ruleMatch(rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 })),
      'meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0',
    );
    assert.equal(
      ruleMatch(rule({ ethertype: 'IPv6', protocol: 'icmp', portRangeMin: 128 })),
      'meta nfproto ipv6 meta l4proto 58 icmpv6 type 128',
      'ICMP on IPv6 is ICMPv6',
    );
    assert.equal(
      ruleMatch(rule({ direction: 'egress', ethertype: 'IPv6', remoteGroupId: 'g9' })),
      'meta nfproto ipv6 ip6 daddr @rg6-g9',
    );
    assert.equal(ruleMatch(rule({ remoteIpPrefix: '0.0.0.0/0' })), 'meta nfproto ipv4');
    assert.equal(
      ruleMatch(rule({ remoteIpPrefix: '2001:db8::/64' })),
      undefined,
      'other family never matches',
    );
    assert.equal(protocolNumber('vrrp', 'IPv4'), 112);
    assert.equal(protocolNumber('any', 'IPv4'), undefined);
    assert.throws(() => protocolNumber('bogus', 'IPv4'), /unknown protocol/);
  });

  it('builds per-port chains keyed on addresses, default deny, with DHCP/ND allowances and remote-group sets', () => {
    const net = network([subnet('10.0.0.0/24', '10.0.0.1')]);
    const g = {
      stateful: true,
      id: 'g1',
      memberIps: ['10.0.0.5', '10.0.0.6', '2001:db8::6'],
      rules: [rule({ remoteGroupId: 'g1' }), rule({ direction: 'egress' })],
    };
    const p = port(net, '10.0.0.5', {
      id: 'p1',
      securityGroupIds: ['g1'],
      macAddress: 'fa:16:3e:00:00:01',
      allowedAddressPairs: [{ ipAddress: '10.0.0.128/25' }],
    });
    const off = port(net, '10.0.0.7', { id: 'p2', portSecurityEnabled: false });
    const dh = dhcpPort(net, '10.0.0.2');
    const body = renderSecurityGroupTable([p, off, dh], new Map([['g1', g]]))!;
    assert.match(
      body,
      /set p4-p1 \{ type ipv4_addr; flags interval; auto-merge; elements = \{ 10\.0\.0\.5, 10\.0\.0\.128\/25 \} \}/,
    );
    assert.match(body, new RegExp(`set p6-p1 .*elements = \\{ ${linkLocalOf('fa:16:3e:00:00:01')} \\}`));
    assert.match(body, /set rg4-g1 .*elements = \{ 10\.0\.0\.5, 10\.0\.0\.6 \}/);
    assert.match(body, /set rg6-g1 .*elements = \{ 2001:db8::6 \}/);
    assert.match(
      body,
      /chain in-p1 \{\n {4}udp sport 67 udp dport 68 accept\n[\s\S]*?ip saddr @rg4-g1 accept\n {4}counter drop\n/,
    );
    assert.match(
      body,
      /chain out-p1 \{\n {4}udp sport 68 udp dport 67 return\n[\s\S]*?meta nfproto ipv4 return\n {4}counter drop\n/,
    );
    assert.match(
      body,
      /ct state established,related accept\n {4}ct state invalid drop\n {4}ip saddr @p4-p1 jump out-p1\n/,
    );
    assert.ok(
      body.indexOf('jump out-p1') < body.indexOf('jump in-p1'),
      'egress of the sender before ingress of the receiver',
    );
    assert.ok(
      !body.includes('p2') && !body.includes(dh.id),
      'no chains for ports without port security or network:*',
    );
    assert.equal(renderSecurityGroupTable([off], new Map()), undefined);
  });

  it('builds anti-spoofing per device, allowing the pairs’ MACs and the unspecified addresses', () => {
    const net = network([subnet('10.0.0.0/24', '10.0.0.1')]);
    const p = port(net, '10.0.0.5', {
      id: 'p1',
      macAddress: 'FA:16:3E:00:00:01',
      allowedAddressPairs: [{ ipAddress: '10.0.0.9', macAddress: 'fa:16:3e:00:00:09' }],
    });
    const body = renderPortSecurityTable([p], () => 'tapp1')!;
    assert.match(body, /iifname "tapp1" jump ps-p1/);
    assert.match(body, /ether saddr != \{ fa:16:3e:00:00:01, fa:16:3e:00:00:09 \} counter drop/);
    assert.match(
      body,
      /set m4-p1 \{ type ether_addr \. ipv4_addr; flags interval; elements = \{ fa:16:3e:00:00:01 \. 0\.0\.0\.0, fa:16:3e:00:00:01 \. 10\.0\.0\.5, fa:16:3e:00:00:09 \. 0\.0\.0\.0, fa:16:3e:00:00:09 \. 10\.0\.0\.9 \} \}/,
    );
    assert.match(body, /ether type ip ether saddr \. ip saddr != @m4-p1 counter drop/);
    assert.match(body, /ether type ip6 icmpv6 type nd-router-advert counter drop/);
    assert.match(
      replaceTableScript('bridge', 'x', body),
      /^table bridge x\ndelete table bridge x\ntable bridge x \{\n/,
    );
  });
});

describe('router NAT', () => {
  const net = network([subnet('10.0.0.0/24', '10.0.0.1')]);
  const ext = network([subnet('203.0.113.0/24', '203.0.113.1')]);
  const gw = routerPort(ext, '203.0.113.10', 'network:router_gateway').entry;
  const ri = routerPort(net, '10.0.0.1').entry;

  it('SNATs subnets, maps floating IPs both ways and forwards ports', () => {
    const r = router({
      gateway: { ...gw, enableSnat: true, gatewayIp: '203.0.113.1' },
      interfaces: [ri],
      floatingIps: [{ id: 'f', floatingIpAddress: '203.0.113.20', fixedIpAddress: '10.0.0.5', portId: 'p' }],
      portForwardings: [
        {
          floatingIpAddress: '203.0.113.21',
          protocol: 'udp',
          externalPort: 5353,
          internalIpAddress: '10.0.0.6',
          internalPort: 53,
        },
      ],
    });
    const body = renderRouterNat(r, 'qg-x')!;
    assert.match(
      body,
      /chain prerouting \{\n {4}type nat hook prerouting priority dstnat; policy accept;\n {4}ip daddr 203\.0\.113\.20 dnat to 10\.0\.0\.5\n {4}ip daddr 203\.0\.113\.21 udp dport 5353 dnat to 10\.0\.0\.6:53\n/,
    );
    assert.match(body, /chain output \{\n {4}type nat hook output priority -100;/);
    assert.match(
      body,
      /ip saddr 10\.0\.0\.5 oifname "qg-x" snat to 203\.0\.113\.20\n {4}ip saddr 10\.0\.0\.0\/24 oifname "qg-x" snat to 203\.0\.113\.10\n/,
    );
    assert.match(body, /iifname != "qg-x" ct status dnat snat to 203\.0\.113\.10/);
  });

  it('does no subnet SNAT when disabled and nothing without a gateway', () => {
    const r = router({ gateway: { ...gw, enableSnat: false }, interfaces: [ri] });
    assert.ok(!renderRouterNat(r, 'qg-x')!.includes('10.0.0.0/24'));
    assert.equal(renderRouterNat(router({ interfaces: [ri] }), 'qg-x'), undefined);
  });
});

describe('dnsmasq and haproxy', () => {
  const s1 = subnet('10.0.0.0/24', '10.0.0.1', {
    dnsNameservers: ['192.0.2.53', '2001:db8::53'],
    hostRoutes: [{ destination: '192.0.2.0/24', nexthop: '10.0.0.254' }],
  });
  const s2 = subnet('10.9.0.0/26', undefined);
  // SLAAC: nothing from DHCP (IPv6 DHCP modes are in renderers-ipv6.test.ts).
  const s6 = subnet('2001:db8::/64', '2001:db8::1', {
    ipVersion: 6,
    ipv6RaMode: 'slaac',
    ipv6AddressMode: 'slaac',
  });
  const off = subnet('10.8.0.0/24', '10.8.0.1', { enableDhcp: false });
  const net = network([s1, s2, s6, off], { mtu: 1450 });
  const dh = port(net, '10.0.0.2', { deviceOwner: 'network:dhcp' });
  dh.fixedIps.push({ subnetId: s2.id, ipAddress: '10.9.0.2' });
  const vm = port(net, '10.0.0.5', { macAddress: 'FA:16:3E:AA:BB:CC', hostname: 'web-1' });
  vm.fixedIps.push(
    { subnetId: s6.id, ipAddress: '2001:db8::5' },
    { subnetId: off.id, ipAddress: '10.8.0.5' },
  );

  it('lists one static lease per IPv4 address on a DHCP subnet (none for SLAAC)', () => {
    const hosts = renderDhcpHosts(net, [vm, dh]).split('\n').filter(Boolean).sort();
    assert.deepEqual(
      hosts,
      [
        `${dh.macAddress},host-10-0-0-2,10.0.0.2`,
        `${dh.macAddress},host-10-9-0-2,10.9.0.2`,
        'fa:16:3e:aa:bb:cc,web-1,10.0.0.5',
      ].sort(),
    );
  });

  it('sends per-subnet options: MTU, router, DNS, metadata and host routes before the default route', () => {
    const opts = renderDhcpOpts(net, dh);
    const t1 = `tag:s-${s1.id}`;
    const t2 = `tag:s-${s2.id}`;
    assert.ok(opts.includes(`${t1},option:mtu,1450\n`));
    assert.ok(opts.includes(`${t1},option:router,10.0.0.1\n`));
    assert.ok(opts.includes(`${t1},option:dns-server,192.0.2.53\n`));
    assert.ok(
      opts.includes(
        `${t1},option:classless-static-route,169.254.169.254/32,10.0.0.2,192.0.2.0/24,10.0.0.254,0.0.0.0/0,10.0.0.1\n`,
      ),
    );
    assert.ok(opts.includes(`${t2},option:router\n`), 'no gateway: an empty router option');
    assert.ok(opts.includes(`${t2},option:classless-static-route,169.254.169.254/32,10.9.0.2\n`));
    assert.ok(!opts.includes(s6.id) && !opts.includes(off.id));
  });

  it('starts dnsmasq static-only on the served subnets, bound to the DHCP device', () => {
    const argv = dnsmasqArgv(net, 'ns-x', { hosts: 'H', opts: 'O', leases: 'L', pid: 'P', log: 'G' }, 600);
    assert.equal(argv[0], 'dnsmasq');
    assert.ok(argv.includes(`--dhcp-range=set:s-${s1.id},10.0.0.0,static,255.255.255.0,600s`));
    assert.ok(argv.includes(`--dhcp-range=set:s-${s2.id},10.9.0.0,static,255.255.255.192,600s`));
    assert.equal(argv.filter((a) => a.startsWith('--dhcp-range')).length, 2);
    for (const a of [
      '--interface=ns-x',
      '--port=0',
      '--dhcp-hostsfile=H',
      '--dhcp-optsfile=O',
      '--pid-file=P',
    ])
      assert.ok(argv.includes(a), a);
  });

  it('points haproxy at the proxy socket with the network id set by the proxy, not the client', () => {
    const cfg = renderHaproxyConfig('net-1', '/run/x/metadata.sock', '/run/x/h.pid');
    assert.match(cfg, /bind 169\.254\.169\.254:80/);
    assert.match(
      cfg,
      /http-request del-header X-Neutron-Network-ID\n {2}http-request del-header X-Forwarded-For\n {2}http-request set-header X-Neutron-Network-ID net-1/,
    );
    assert.match(cfg, /option forwardfor/);
    assert.match(cfg, /server metadata unix@\/run\/x\/metadata\.sock/);
  });
});

describe('naming', () => {
  it('names namespaces by prefix and kind and recognises only its own', () => {
    assert.equal(namespaceName('ms-', 'dhcp', 'abc'), 'ms-dhcp-abc');
    assert.deepEqual(parseNamespace('ms-', 'ms-r-123'), { kind: 'router', id: '123' });
    assert.equal(parseNamespace('ms-', 'other-n-1'), undefined);
    assert.equal(parseNamespace('ms-', 'ms-x-1'), undefined);
    assert.equal(uplinkPeerName('mtab12-', '0123abcd-ef'), 'mtab12-0123abcd');
    assert.equal(linkLocalOf('fa:16:3e:00:00:01'), 'fe80::f816:3eff:fe00:1');
  });
});

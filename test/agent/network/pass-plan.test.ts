// Which changes an incremental pass handles (VM ports, security groups) and which need the full pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostNetworkState } from '../../../src/agent/network/desired-state.ts';
import { planPass } from '../../../src/agent/network/pass-plan.ts';
import { defaultGroup, dhcpPort, network, port, router, routerPort, subnet } from './fixtures.ts';

function world() {
  const net = network([subnet('10.0.0.0/24', '10.0.0.1')]);
  const other = network([subnet('10.9.0.0/24', '10.9.0.1')]);
  const sg = defaultGroup(['10.0.0.11']);
  const vm = port(net, '10.0.0.11', { securityGroupIds: [sg.id] });
  const state: HostNetworkState = {
    networks: [net, other],
    ports: [vm, dhcpPort(net, '10.0.0.2'), dhcpPort(other, '10.9.0.2')],
    routers: [],
    securityGroups: [sg],
  };
  return { net, other, sg, vm, state, wired: new Set([net.id, other.id]) };
}

const none = new Set<string>();

describe('planPass', () => {
  it('runs the full pass first, and does nothing when nothing changed', () => {
    const w = world();
    assert.equal(planPass(undefined, w.state, none, w.wired).kind, 'full');
    const p = planPass(w.state, structuredClone(w.state), none, w.wired);
    assert.equal(p.kind, 'incremental');
    assert.equal(p.kind === 'incremental' && p.networks.size, 0);
  });

  it('wires a new local VM port on its network only, with its tables and DHCP hosts', () => {
    const w = world();
    const next = structuredClone(w.state);
    const added = port(w.net, '10.0.0.12', { securityGroupIds: [w.sg.id] });
    next.ports.push(added);
    const p = planPass(w.state, next, none, w.wired);
    assert.ok(p.kind === 'incremental');
    assert.deepEqual([...p.networks.keys()], [w.net.id]);
    const d = p.networks.get(w.net.id)!;
    assert.deepEqual(
      d.wire.map((x) => x.id),
      [added.id],
    );
    assert.equal(d.tables, true);
    assert.equal(d.dhcpHosts, true);
  });

  it('only rewrites DHCP hosts for a port bound elsewhere, and unwires a local port that goes', () => {
    const w = world();
    const next = structuredClone(w.state);
    next.ports.push(port(w.other, '10.9.0.7', { boundHere: false }));
    next.ports = next.ports.filter((x) => x.id !== w.vm.id);
    const p = planPass(w.state, next, none, w.wired);
    assert.ok(p.kind === 'incremental');
    assert.deepEqual(p.networks.get(w.other.id), { wire: [], unwire: [], tables: false, dhcpHosts: true });
    assert.deepEqual(p.networks.get(w.net.id), {
      wire: [],
      unwire: [w.vm.id],
      tables: true,
      dhcpHosts: true,
    });
  });

  it('re-renders the tables of networks with grouped local ports when a security group changes', () => {
    const w = world();
    const next = structuredClone(w.state);
    next.securityGroups[0]!.memberIps.push('10.0.0.99');
    const p = planPass(w.state, next, none, w.wired);
    assert.ok(p.kind === 'incremental');
    assert.equal(p.networks.get(w.net.id)?.tables, true);
    assert.equal(p.networks.get(w.net.id)?.wire.length, 0);
    assert.equal(p.networks.has(w.other.id), false);
  });

  it('wires pending (re-plugged) ports even when unchanged', () => {
    const w = world();
    const p = planPass(w.state, structuredClone(w.state), new Set([w.vm.id]), w.wired);
    assert.ok(p.kind === 'incremental');
    assert.deepEqual(
      p.networks.get(w.net.id)?.wire.map((x) => x.id),
      [w.vm.id],
    );
  });

  it('needs the full pass for networks, subnets, routers, DHCP/router ports, and unwired networks', () => {
    const w = world();
    const full = (mutate: (s: HostNetworkState) => void, wired = w.wired) => {
      const next = structuredClone(w.state);
      mutate(next);
      return planPass(w.state, next, none, wired).kind;
    };
    assert.equal(
      full((s) => {
        s.networks[0]!.mtu = 1400;
      }),
      'full',
    );
    assert.equal(
      full((s) => {
        s.networks[0]!.subnets[0]!.dnsNameservers = ['192.0.2.53'];
      }),
      'full',
    );
    assert.equal(
      full((s) => {
        s.networks.push(network([]));
      }),
      'full',
    );
    assert.equal(
      full((s) => {
        s.routers.push(router());
      }),
      'full',
    );
    assert.equal(
      full((s) => {
        s.ports.find((x) => x.deviceOwner === 'network:dhcp')!.fixedIps = [];
      }),
      'full',
    );
    assert.equal(
      full((s) => {
        s.ports.push(routerPort(s.networks[0]!, '10.0.0.1').port);
      }),
      'full',
    );
    assert.equal(
      full(
        (s) => {
          s.ports.push(port(w.net, '10.0.0.13'));
        },
        new Set([w.other.id]),
      ),
      'full',
      'a change on a network the last full pass could not wire',
    );
  });
});

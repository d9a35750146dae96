// The routers a host's agent is told to build, from what the L3 API stored: gateway (addresses with prefixes,
// SNAT, the external subnet's gateway), interfaces, extra routes, floating IPs and port forwardings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ServiceControlPlane } from '../../../src/services/network/dataplane-api.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { externalNet, makePort, routedNet } from './l3-support.ts';
import { neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

describe('L3 desired state', () => {
  test('a router with gateway, interface, route, floating IP and port forwarding', async () => {
    const ext = await externalNet(tc, '203.0.113.0/24');
    const { net, router } = await routedNet(tc, alice, ext, '10.40.0.0/24');
    const p = await makePort(tc, alice, net.networkId);
    const q = await makePort(tc, alice, net.networkId);
    const fip = (
      await neutron(tc, 'POST', '/floatingips', {
        token: alice.token,
        body: { floatingip: { floating_network_id: ext.networkId, port_id: p.id } },
      })
    ).body.floatingip;
    const fip2 = (
      await neutron(tc, 'POST', '/floatingips', {
        token: alice.token,
        body: { floatingip: { floating_network_id: ext.networkId } },
      })
    ).body.floatingip;
    const pf = await neutron(tc, 'POST', `/floatingips/${fip2.id}/port_forwardings`, {
      token: alice.token,
      body: {
        port_forwarding: {
          protocol: 'tcp',
          external_port: 8080,
          internal_port: 80,
          internal_ip_address: q.fixed_ips[0]!.ip_address,
          internal_port_id: q.id,
        },
      },
    });
    assert.equal(pf.status, 201, pf.text);
    const routes = [{ destination: '192.168.9.0/24', nexthop: '10.40.0.9' }];
    assert.equal(
      (
        await neutron(tc, 'PUT', `/routers/${router.id}`, {
          token: alice.token,
          body: { router: { routes } },
        })
      ).status,
      200,
    );

    const state = await new ServiceControlPlane(tc.cloud.network.context).desiredState('*');
    const dp = state.routers.find((r) => r.id === router.id);
    assert.ok(dp, 'the router is in the desired state');
    const gwIp = router.external_gateway_info.external_fixed_ips[0].ip_address;
    assert.equal(dp.gateway?.networkId, ext.networkId);
    assert.equal(dp.gateway?.enableSnat, true);
    assert.equal(dp.gateway?.gatewayIp, '203.0.113.1');
    assert.deepEqual(dp.gateway?.ips, [{ ipAddress: gwIp, cidr: '203.0.113.0/24' }]);
    assert.equal(dp.interfaces.length, 1);
    assert.equal(dp.interfaces[0]!.networkId, net.networkId);
    assert.deepEqual(dp.interfaces[0]!.ips, [{ ipAddress: '10.40.0.1', cidr: '10.40.0.0/24' }]);
    assert.deepEqual(dp.routes, routes);
    assert.deepEqual(dp.floatingIps, [
      {
        id: fip.id,
        floatingIpAddress: fip.floating_ip_address,
        fixedIpAddress: p.fixed_ips[0]!.ip_address,
        portId: p.id,
      },
    ]);
    assert.deepEqual(dp.portForwardings, [
      {
        floatingIpAddress: fip2.floating_ip_address,
        protocol: 'tcp',
        externalPort: 8080,
        internalIpAddress: q.fixed_ips[0]!.ip_address,
        internalPort: 80,
      },
    ]);
  });
});

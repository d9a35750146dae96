// /v2.0/routers: create/show/list/update/delete, external gateways (ext-gw-mode, admin-only SNAT), extra routes,
// visibility, tags and the interop checks of tempest's test_routers / test_routers_negative.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { addInterface, externalNet, makeRouter, type Net, tenantNet } from './l3-support.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;
let ext: Net;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
  bob = await tc.makeUser();
  ext = await externalNet(tc);
});
after(async () => {
  await tc.close();
});

describe('routers', () => {
  test('create with a gateway: defaults, gateway port on the external network, show/list/update/delete', async () => {
    const r = await makeRouter(tc, alice, {
      admin_state_up: false,
      external_gateway_info: { network_id: ext.networkId },
    });
    assert.equal(r.admin_state_up, false);
    assert.equal(r.status, 'ACTIVE');
    assert.equal(r.project_id, alice.projectId);
    assert.equal(r.tenant_id, alice.projectId);
    assert.deepEqual(r.routes, []);
    assert.deepEqual(r.availability_zone_hints, []);
    assert.deepEqual(r.tags, []);
    assert.equal(r.flavor_id, null);
    assert.equal(r.distributed, undefined, 'distributed is admin-only');
    assert.equal(r.external_gateway_info.network_id, ext.networkId);
    assert.equal(r.external_gateway_info.enable_snat, true);
    assert.equal(r.external_gateway_info.external_fixed_ips.length, 1);
    assert.equal(r.external_gateway_info.external_fixed_ips[0].subnet_id, ext.subnetId);
    assert.equal(r.gw_port_id, undefined);

    const ports = await neutron(
      tc,
      'GET',
      `/ports?network_id=${ext.networkId}&device_id=${r.id}&device_owner=network:router_gateway`,
      { token: tc.adminToken },
    );
    assert.equal(ports.body.ports.length, 1, ports.text);
    assert.equal(ports.body.ports[0].tenant_id, '');
    assert.equal(
      ports.body.ports[0].fixed_ips[0].ip_address,
      r.external_gateway_info.external_fixed_ips[0].ip_address,
    );

    const admin = await neutron(tc, 'GET', `/routers/${r.id}`, { token: tc.adminToken });
    assert.equal(admin.body.router.distributed, false);
    assert.equal(admin.body.router.ha, false);

    const list = await neutron(tc, 'GET', '/routers', { token: alice.token });
    assert.ok(list.body.routers.some((x: { id: string }) => x.id === r.id));
    const up = await neutron(tc, 'PUT', `/routers/${r.id}`, {
      token: alice.token,
      body: { router: { name: 'renamed', admin_state_up: true } },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.router.name, 'renamed');
    assert.equal(up.body.router.admin_state_up, true);
    assert.equal(up.body.router.revision_number, r.revision_number + 1);

    assert.equal((await neutron(tc, 'DELETE', `/routers/${r.id}`, { token: alice.token })).status, 204);
    expectNeutronError(
      await neutron(tc, 'GET', `/routers/${r.id}`, { token: alice.token }),
      404,
      'RouterNotFound',
      `Router ${r.id} could not be found`,
    );
    const after = await neutron(tc, 'GET', `/ports?device_id=${r.id}`, { token: tc.adminToken });
    assert.deepEqual(after.body.ports, [], 'the gateway port went with the router');
  });

  test('gateway: {} unsets it, SNAT and fixed IPs are admin-only, admin sets enable_snat false', async () => {
    const r = await makeRouter(tc, alice, { external_gateway_info: {} });
    assert.equal(r.external_gateway_info, null);
    const set = await neutron(tc, 'PUT', `/routers/${r.id}`, {
      token: alice.token,
      body: { router: { external_gateway_info: { network_id: ext.networkId } } },
    });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.router.external_gateway_info.network_id, ext.networkId);
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, {
        token: alice.token,
        body: { router: { external_gateway_info: { network_id: ext.networkId, enable_snat: false } } },
      }),
      403,
      'PolicyNotAuthorized',
    );
    const snatOff = await neutron(tc, 'PUT', `/routers/${r.id}`, {
      token: tc.adminToken,
      body: { router: { external_gateway_info: { network_id: ext.networkId, enable_snat: false } } },
    });
    assert.equal(snatOff.status, 200, snatOff.text);
    assert.equal(snatOff.body.router.external_gateway_info.enable_snat, false);
    const fixed = await neutron(tc, 'PUT', `/routers/${r.id}`, {
      token: tc.adminToken,
      body: {
        router: {
          external_gateway_info: {
            network_id: ext.networkId,
            external_fixed_ips: [{ subnet_id: ext.subnetId, ip_address: '172.24.4.200' }],
          },
        },
      },
    });
    assert.equal(fixed.status, 200, fixed.text);
    assert.deepEqual(fixed.body.router.external_gateway_info.external_fixed_ips, [
      { subnet_id: ext.subnetId, ip_address: '172.24.4.200' },
    ]);
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, {
        token: tc.adminToken,
        body: {
          router: {
            external_gateway_info: {
              network_id: ext.networkId,
              external_fixed_ips: [{ ip_address: '172.24.4.1' }],
            },
          },
        },
      }),
      400,
      'BadRequest',
      'Bad router request: External IP 172.24.4.1 is the same as the gateway IP.',
    );
    const unset = await neutron(tc, 'PUT', `/routers/${r.id}`, {
      token: alice.token,
      body: { router: { external_gateway_info: {} } },
    });
    assert.equal(unset.status, 200, unset.text);
    assert.equal(unset.body.router.external_gateway_info, null);
    const gw = await neutron(tc, 'GET', `/ports?network_id=${ext.networkId}&device_id=${r.id}`, {
      token: tc.adminToken,
    });
    assert.deepEqual(gw.body.ports, []);
  });

  test('gateway errors: unknown network 404, internal network 400, malformed info 400', async () => {
    const r = await makeRouter(tc, alice);
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, {
        token: alice.token,
        body: { router: { external_gateway_info: { network_id: r.id } } },
      }),
      404,
      'NetworkNotFound',
      `Network ${r.id} could not be found.`,
    );
    const internal = await tenantNet(tc, alice, '10.9.0.0/24');
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, {
        token: alice.token,
        body: { router: { external_gateway_info: { network_id: internal.networkId } } },
      }),
      400,
      'BadRequest',
      `Bad router request: Network ${internal.networkId} is not an external network.`,
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/routers', {
        token: alice.token,
        body: { router: { external_gateway_info: { enable_snat: true } } },
      }),
      400,
      'HTTPBadRequest',
      "Invalid input for external_gateway_info. Reason: Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: {'enable_snat'}.",
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/routers', {
        token: alice.token,
        body: { router: { external_gateway_info: { network_id: ext.networkId, foo: 1 } } },
      }),
      400,
      'HTTPBadRequest',
      'Invalid input for external_gateway_info. Reason: Unexpected keys supplied: foo.',
    );
    expectNeutronError(
      await neutron(tc, 'POST', '/routers', { token: alice.token, body: { router: { distributed: true } } }),
      400,
      'HTTPBadRequest',
      "Attribute 'distributed' not allowed in POST",
    );
  });

  test('non-existent and foreign routers are 404 RouterNotFound for show, update and delete', async () => {
    const missing = '7b1a3c43-4dd6-4b8b-9f2e-2d7f8c6d0000';
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { router: { name: 'x' } }],
      ['DELETE', undefined],
    ] as const) {
      expectNeutronError(
        await neutron(tc, method, `/routers/${missing}`, { token: alice.token, ...(body ? { body } : {}) }),
        404,
        'RouterNotFound',
      );
    }
    const own = await makeRouter(tc, alice);
    expectNeutronError(
      await neutron(tc, 'GET', `/routers/${own.id}`, { token: bob.token }),
      404,
      'RouterNotFound',
    );
    const bobs = await neutron(tc, 'GET', '/routers', { token: bob.token });
    assert.ok(!bobs.body.routers.some((x: { id: string }) => x.id === own.id));
  });

  test('extra routes: next hops must be on a connected subnet; routes=null clears them', async () => {
    const r = await makeRouter(tc, alice);
    const nets: Net[] = [];
    for (const cidr of ['10.20.0.0/24', '10.20.1.0/24']) {
      const n = await tenantNet(tc, alice, cidr);
      await addInterface(tc, alice, r.id, { subnet_id: n.subnetId });
      nets.push(n);
    }
    const routes = [
      { destination: '192.168.50.0/24', nexthop: '10.20.0.2' },
      { destination: '192.168.51.0/24', nexthop: '10.20.1.2' },
    ];
    const up = await neutron(tc, 'PUT', `/routers/${r.id}`, {
      token: alice.token,
      body: { router: { routes } },
    });
    assert.equal(up.status, 200, up.text);
    assert.deepEqual(up.body.router.routes, routes);
    const shown = await neutron(tc, 'GET', `/routers/${r.id}`, { token: alice.token });
    assert.deepEqual(shown.body.router.routes, routes);
    const bad = [{ destination: '192.168.60.0/24', nexthop: '10.99.0.2' }];
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, { token: alice.token, body: { router: { routes: bad } } }),
      400,
      'InvalidRoutes',
      "Invalid format for routes: [{'destination': '192.168.60.0/24', 'nexthop': '10.99.0.2'}], the nexthop is not connected with router",
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, {
        token: alice.token,
        body: { router: { routes: [{ destination: '192.168.60.0/24', nexthop: '10.20.0.1' }] } },
      }),
      400,
      'InvalidRoutes',
      /the nexthop is used by router/,
    );
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, {
        token: alice.token,
        body: { router: { routes: [{ destination: '192.168.60.1/24', nexthop: '10.20.0.5' }] } },
      }),
      400,
      'HTTPBadRequest',
      "Invalid input for routes. Reason: '192.168.60.1/24' is not a recognized CIDR, '192.168.60.0/24' is recommended.",
    );
    // A subnet a route's next hop needs cannot be detached.
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}/remove_router_interface`, {
        token: alice.token,
        body: { subnet_id: nets[0]!.subnetId },
      }),
      409,
      'RouterInterfaceInUseByRoute',
    );
    // extraroute-atomic
    const added = await neutron(tc, 'PUT', `/routers/${r.id}/add_extraroutes`, {
      token: alice.token,
      body: { router: { routes: [{ destination: '192.168.52.0/24', nexthop: '10.20.0.3' }] } },
    });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.body.router.routes.length, 3);
    const removed = await neutron(tc, 'PUT', `/routers/${r.id}/remove_extraroutes`, {
      token: alice.token,
      body: { router: { routes: [{ destination: '192.168.52.0/24', nexthop: '10.20.0.3' }] } },
    });
    assert.equal(removed.body.router.routes.length, 2);
    const cleared = await neutron(tc, 'PUT', `/routers/${r.id}`, {
      token: alice.token,
      body: { router: { routes: null } },
    });
    assert.deepEqual(cleared.body.router.routes, []);
  });

  test('tags, If-Match, filters; quota', async () => {
    const r = await makeRouter(tc, bob, { name: 'tagme' });
    assert.equal((await neutron(tc, 'PUT', `/routers/${r.id}/tags/blue`, { token: bob.token })).status, 201);
    const tagged = await neutron(tc, 'GET', '/routers?tags=blue', { token: bob.token });
    assert.deepEqual(
      tagged.body.routers.map((x: { id: string }) => x.id),
      [r.id],
    );
    assert.deepEqual(tagged.body.routers[0].tags, ['blue']);
    expectNeutronError(
      await neutron(tc, 'PUT', `/routers/${r.id}`, {
        token: bob.token,
        body: { router: { name: 'x' } },
        headers: { 'if-match': 'revision_number=1' },
      }),
      412,
      'RevisionNumberConstraintFailed',
    );
    const byName = await neutron(tc, 'GET', '/routers?name=tagme&fields=id&fields=name', {
      token: bob.token,
    });
    assert.deepEqual(byName.body.routers, [{ id: r.id, name: 'tagme' }]);

    const quota = await neutron(tc, 'PUT', `/quotas/${bob.projectId}`, {
      token: tc.adminToken,
      body: { quota: { router: 1 } },
    });
    assert.equal(quota.status, 200, quota.text);
    expectNeutronError(
      await neutron(tc, 'POST', '/routers', { token: bob.token, body: { router: { name: 'second' } } }),
      409,
      'OverQuota',
      "Quota exceeded for resources: ['router'].",
    );
  });

  test('extensions are listed with their Neutron aliases', async () => {
    const res = await neutron(tc, 'GET', '/extensions', { token: alice.token });
    const aliases = res.body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of ['router', 'ext-gw-mode', 'extraroute', 'router_availability_zone', 'fip-port-details'])
      assert.ok(aliases.includes(a), a);
    assert.ok(!aliases.includes('dvr'));
  });
});

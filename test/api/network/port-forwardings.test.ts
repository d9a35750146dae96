// /v2.0/floatingips/{id}/port_forwardings: create/list/show/update/delete, collisions, the exclusion between a
// floating IP's association and its forwardings, and the router the floating IP then belongs to.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { externalNet, type Json, makePort, type Net, routedNet } from './l3-support.ts';
import { expectNeutronError, neutron } from './network-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;
let ext: Net;
let net: Net;
let router: Json;

before(async () => {
  tc = await startTestCloud();
  alice = await tc.makeUser();
  bob = await tc.makeUser();
  ext = await externalNet(tc);
  ({ net, router } = await routedNet(tc, alice, ext, '10.30.0.0/24'));
});
after(async () => {
  await tc.close();
});

async function newFip(): Promise<Json> {
  const res = await neutron(tc, 'POST', '/floatingips', {
    token: alice.token,
    body: { floatingip: { floating_network_id: ext.networkId } },
  });
  assert.equal(res.status, 201, res.text);
  return res.body.floatingip;
}

const pfPath = (fipId: string, pfId = '') =>
  `/floatingips/${fipId}/port_forwardings${pfId ? `/${pfId}` : ''}`;

describe('port forwardings', () => {
  test('create, list, show, update, delete; the floating IP gets the router and shows its forwardings', async () => {
    const fip = await newFip();
    const p = await makePort(tc, alice, net.networkId);
    const ip = p.fixed_ips[0]!.ip_address;
    const res = await neutron(tc, 'POST', pfPath(fip.id), {
      token: alice.token,
      body: {
        port_forwarding: {
          protocol: 'tcp',
          external_port: 2222,
          internal_port: 22,
          internal_ip_address: ip,
          internal_port_id: p.id,
          description: 'ssh',
        },
      },
    });
    assert.equal(res.status, 201, res.text);
    const pf = res.body.port_forwarding;
    assert.deepEqual(
      { ...pf, id: undefined },
      {
        id: undefined,
        protocol: 'tcp',
        external_port: 2222,
        internal_port: 22,
        internal_ip_address: ip,
        internal_port_id: p.id,
        description: 'ssh',
      },
    );
    const shownFip = (await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: alice.token })).body
      .floatingip;
    assert.equal(shownFip.router_id, router.id);
    assert.equal(shownFip.port_id, null);
    assert.deepEqual(shownFip.port_forwardings, [
      {
        id: pf.id,
        internal_ip_address: ip,
        protocol: 'tcp',
        internal_port: 22,
        external_port: 2222,
        internal_port_id: p.id,
      },
    ]);
    const list = await neutron(tc, 'GET', pfPath(fip.id), { token: alice.token });
    assert.deepEqual(
      list.body.port_forwardings.map((x: { id: string }) => x.id),
      [pf.id],
    );
    const one = await neutron(tc, 'GET', pfPath(fip.id, pf.id), { token: alice.token });
    assert.equal(one.body.port_forwarding.external_port, 2222);
    const up = await neutron(tc, 'PUT', pfPath(fip.id, pf.id), {
      token: alice.token,
      body: { port_forwarding: { external_port: 2200 } },
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.port_forwarding.external_port, 2200);

    // A floating IP with forwardings cannot also be associated, nor deleted.
    expectNeutronError(
      await neutron(tc, 'PUT', `/floatingips/${fip.id}`, {
        token: alice.token,
        body: { floatingip: { port_id: p.id } },
      }),
      409,
      'FipInUseByPortForwarding',
      `Floating IP ${fip.id} in use by Port Forwarding resources.`,
    );
    expectNeutronError(
      await neutron(tc, 'DELETE', `/floatingips/${fip.id}`, { token: alice.token }),
      409,
      'FipInUseByPortForwarding',
    );

    assert.equal((await neutron(tc, 'DELETE', pfPath(fip.id, pf.id), { token: alice.token })).status, 204);
    expectNeutronError(
      await neutron(tc, 'GET', pfPath(fip.id, pf.id), { token: alice.token }),
      404,
      'PortForwardingNotFound',
      `Port Forwarding ${pf.id} could not be found.`,
    );
    const after = (await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: alice.token })).body
      .floatingip;
    assert.equal(after.router_id, null, 'the last forwarding takes the router with it');
    assert.equal((await neutron(tc, 'DELETE', `/floatingips/${fip.id}`, { token: alice.token })).status, 204);
  });

  test('collisions, an associated floating IP, a port with its own floating IP, a wrong address', async () => {
    const fip = await newFip();
    const p = await makePort(tc, alice, net.networkId);
    const ip = p.fixed_ips[0]!.ip_address;
    const body = (over: Record<string, unknown>) => ({
      token: alice.token,
      body: {
        port_forwarding: {
          protocol: 'udp',
          external_port: 5353,
          internal_port: 53,
          internal_ip_address: ip,
          internal_port_id: p.id,
          ...over,
        },
      },
    });
    assert.equal((await neutron(tc, 'POST', pfPath(fip.id), body({}))).status, 201);
    expectNeutronError(
      await neutron(tc, 'POST', pfPath(fip.id), body({ internal_port: 54 })),
      400,
      'BadRequest',
      'Bad port_forwarding request: There is a port collision with the external_port_range. The following ranges collides: 5353:5353 and 5353:5353.',
    );
    assert.equal((await neutron(tc, 'POST', pfPath(fip.id), body({ protocol: 'tcp' }))).status, 201);
    expectNeutronError(
      await neutron(
        tc,
        'POST',
        pfPath(fip.id),
        body({ external_port: 5354, internal_ip_address: '10.30.0.250' }),
      ),
      400,
      'BadRequest',
      /is not suitable for internal neutron port/,
    );
    expectNeutronError(
      await neutron(tc, 'POST', pfPath(fip.id), body({ protocol: 'icmp' })),
      400,
      'HTTPBadRequest',
    );
    expectNeutronError(
      await neutron(tc, 'POST', pfPath(fip.id), body({ external_port: 70000 })),
      400,
      'HTTPBadRequest',
      "Invalid input for external_port. Reason: '70000' is too large - must be no larger than '65535'.",
    );

    const q = await makePort(tc, alice, net.networkId);
    const assoc = await neutron(tc, 'POST', '/floatingips', {
      token: alice.token,
      body: { floatingip: { floating_network_id: ext.networkId, port_id: q.id } },
    });
    assert.equal(assoc.status, 201, assoc.text);
    expectNeutronError(
      await neutron(
        tc,
        'POST',
        pfPath(assoc.body.floatingip.id),
        body({ internal_port_id: p.id, external_port: 80, internal_port: 80 }),
      ),
      409,
      'FloatingIPPortAlreadyAssociated',
    );
    expectNeutronError(
      await neutron(
        tc,
        'POST',
        pfPath(fip.id),
        body({ internal_port_id: q.id, internal_ip_address: q.fixed_ips[0]!.ip_address, external_port: 81 }),
      ),
      409,
      'PortHasBindingFloatingIP',
    );
    // Deleting the internal port drops its forwardings.
    assert.equal((await neutron(tc, 'DELETE', `/ports/${p.id}`, { token: alice.token })).status, 204);
    const left = await neutron(tc, 'GET', pfPath(fip.id), { token: alice.token });
    assert.deepEqual(left.body.port_forwardings, []);
    const shown = (await neutron(tc, 'GET', `/floatingips/${fip.id}`, { token: alice.token })).body
      .floatingip;
    assert.equal(shown.router_id, null);
  });

  test('another project sees neither the floating IP nor its forwardings', async () => {
    const fip = await newFip();
    expectNeutronError(
      await neutron(tc, 'GET', pfPath(fip.id), { token: bob.token }),
      404,
      'FloatingIPNotFound',
    );
    expectNeutronError(
      await neutron(tc, 'POST', pfPath(fip.id), {
        token: bob.token,
        body: {
          port_forwarding: {
            protocol: 'tcp',
            external_port: 1,
            internal_port: 1,
            internal_ip_address: '10.30.0.9',
            internal_port_id: fip.id,
          },
        },
      }),
      404,
      'FloatingIPNotFound',
    );
  });
});

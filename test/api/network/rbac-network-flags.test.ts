// The '*' RBAC entries behind a network's shared and router:external flags, as the network API keeps them through
// networkCreatedSharing / networkSharingUpdate: created with the flags, removed with them, and refused
// (InvalidSharedSetting, ExternalNetworkInUse) while other projects or routers depend on them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../../src/platform/errors.ts';
import type { NetworkTrx } from '../../../src/services/network/context.ts';
import {
  networkCreatedSharing,
  networkSharingUpdate,
} from '../../../src/services/network/domain/rbac-policies.ts';
import type { NetworksTable } from '../../../src/services/network/store/tables-core.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { neutron } from './network-support.ts';

let tc: TestCloud;
let carol: TestUser;

before(async () => {
  tc = await startTestCloud();
  carol = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

async function row(id: string): Promise<NetworksTable> {
  return tc.cloud.network.context.db
    .selectFrom('network_networks')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function policiesOf(
  id: string,
): Promise<{ action: string; target_tenant: string; project_id: string }[]> {
  const res = await neutron(tc, 'GET', `/rbac-policies?object_id=${id}`, { token: tc.adminToken });
  assert.equal(res.status, 200, res.text);
  return res.body.rbac_policies;
}

async function portOf(networkId: string, projectId: string, deviceOwner = ''): Promise<void> {
  const cx = tc.cloud.network.context;
  const id = cx.ids.uuid();
  const now = cx.nowIso();
  await cx.write(async (trx) => {
    await trx
      .insertInto('network_ports')
      .values({
        id,
        project_id: projectId,
        name: '',
        description: '',
        created_at: now,
        updated_at: now,
        revision_number: 1,
        network_id: networkId,
        mac_address: `fa:16:3e:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}`,
        admin_state_up: 1,
        status: 'DOWN',
        device_id: '',
        device_owner: deviceOwner,
        port_security_enabled: 1,
        host_id: '',
        vnic_type: 'normal',
        binding_profile: '{}',
        allowed_address_pairs: '[]',
        extra_dhcp_opts: '[]',
      })
      .execute();
  });
}

const run = (fn: (trx: NetworkTrx) => Promise<void>): Promise<void> =>
  tc.cloud.network.context.write((trx) => fn(trx));

describe("the '*' policies of shared and external networks", () => {
  test('a shared network gets a wildcard access_as_shared entry; unsharing refuses while others use it', async () => {
    const res = await neutron(tc, 'POST', '/networks', {
      token: tc.adminToken,
      body: { network: { name: 'shared-net', shared: true } },
    });
    assert.equal(res.status, 201, res.text);
    const id = res.body.network.id as string;
    const cx = tc.cloud.network.context;
    const fresh = await row(id);
    await run((trx) => networkCreatedSharing(cx, trx, fresh));
    const created = await policiesOf(id);
    assert.deepEqual(
      created.map((p) => [p.action, p.target_tenant, p.project_id]),
      [['access_as_shared', '*', res.body.network.project_id]],
    );

    await portOf(id, carol.projectId);
    const before = await row(id);
    await assert.rejects(
      run((trx) => networkSharingUpdate(cx, trx, before, { shared: false })),
      (e: unknown) =>
        e instanceof ApiError &&
        e.status === 409 &&
        e.code === 'InvalidSharedSetting' &&
        e.message ===
          'Unable to reconfigure sharing settings for network shared-net. Multiple tenants are using it.',
    );
    // With an entry of her own, Carol keeps access: the wildcard may go.
    const own = await neutron(tc, 'POST', '/rbac-policies', {
      token: tc.adminToken,
      body: {
        rbac_policy: {
          object_type: 'network',
          object_id: id,
          action: 'access_as_shared',
          target_tenant: carol.projectId,
        },
      },
    });
    assert.equal(own.status, 201, own.text);
    await run((trx) => networkSharingUpdate(cx, trx, before, { shared: false }));
    assert.deepEqual(
      (await policiesOf(id)).map((p) => p.target_tenant),
      [carol.projectId],
    );
  });

  test('router:external adds a wildcard access_as_external entry; gateway ports keep it external', async () => {
    const res = await neutron(tc, 'POST', '/networks', {
      token: tc.adminToken,
      body: { network: { name: 'ext' } },
    });
    const id = res.body.network.id as string;
    const cx = tc.cloud.network.context;
    const internal = await row(id);
    await run((trx) => networkSharingUpdate(cx, trx, internal, { external: true }));
    assert.deepEqual(
      (await policiesOf(id)).map((p) => [p.action, p.target_tenant]),
      [['access_as_external', '*']],
    );
    await cx.db.updateTable('network_networks').set({ router_external: 1 }).where('id', '=', id).execute();
    await portOf(id, '', 'network:router_gateway');
    const external = await row(id);
    await assert.rejects(
      run((trx) => networkSharingUpdate(cx, trx, external, { external: false })),
      (e: unknown) => e instanceof ApiError && e.status === 409 && e.code === 'ExternalNetworkInUse',
    );
    assert.equal((await policiesOf(id)).length, 1);
  });
});

// Moves between two fake hosts: a cold migration lands on the other host and a revert brings the server (and a
// running guest) back to its source; unshelve at 2.91 goes to the host asked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';
import { nova, uploadTestImage, V, waitForStatus } from './compute-support.ts';

let tc: TestCloud;
let imageId: string;
const MV = { 'openstack-api-version': 'compute 2.93' };

before(async () => {
  tc = await startTestCloud({ compute: { fake: { hosts: 2 } } as never });
  imageId = await uploadTestImage(tc);
});
after(async () => {
  await tc.close();
});

async function create(name: string): Promise<string> {
  const r = await tc.request('POST', `${V}/servers`, {
    token: tc.adminToken,
    headers: MV,
    body: { server: { name, flavorRef: '42', imageRef: imageId, networks: 'none' } },
  });
  assert.equal(r.status, 202, r.text);
  await waitForStatus(tc, r.body.server.id, tc.adminToken, 'ACTIVE');
  return r.body.server.id;
}

async function hostOf(id: string): Promise<string> {
  const r = await nova(tc, 'GET', `/servers/${id}`, { token: tc.adminToken });
  return r.body.server['OS-EXT-SRV-ATTR:host'];
}

describe('moves between two hosts', () => {
  test('cold migrate then revert: back on the source host, ACTIVE, and it stays ACTIVE', async () => {
    const id = await create('mover');
    const source = await hostOf(id);
    const m = await tc.request('POST', `${V}/servers/${id}/action`, {
      token: tc.adminToken,
      headers: MV,
      body: { migrate: null },
    });
    assert.equal(m.status, 202, m.text);
    await waitForStatus(tc, id, tc.adminToken, 'VERIFY_RESIZE');
    const dest = await hostOf(id);
    assert.notEqual(dest, source);
    const r = await tc.request('POST', `${V}/servers/${id}/action`, {
      token: tc.adminToken,
      headers: MV,
      body: { revertResize: null },
    });
    assert.equal(r.status, 202, r.text);
    await waitForStatus(tc, id, tc.adminToken, 'ACTIVE');
    assert.equal(await hostOf(id), source);
    // Both agents resync: the source keeps (or re-created) a running guest, so no drift to SHUTOFF.
    await tc.cloud.compute.agent!.resync();
    await tc.cloud.compute.agent!.resync();
    await tc.cloud.settle();
    const s = await nova(tc, 'GET', `/servers/${id}`, { token: tc.adminToken });
    assert.equal(s.body.server.status, 'ACTIVE');
    // A guest absent from its host would have been reported SHUTDOWN (4) by the resync.
    assert.equal(s.body.server['OS-EXT-STS:power_state'], 1);
  });

  test('a host disabled a moment ago gets no new server (the scheduler drops its cached host facts)', async () => {
    // The emptier host is the one the RAM weigher picks next: that is the one disabled.
    const free = async () => {
      // free_ram_mb is shown up to 2.87.
      const r = await tc.request('GET', `${V}/os-hypervisors/detail`, {
        token: tc.adminToken,
        headers: { 'openstack-api-version': 'compute 2.87' },
      });
      assert.equal(r.status, 200, r.text);
      const byHost = new Map<string, number>();
      for (const h of r.body.hypervisors) byHost.set(h.service.host, h.free_ram_mb ?? 0);
      return byHost;
    };
    let f = await free();
    const [a, b] = [...f.keys()].sort();
    const emptier = (f.get(a!) ?? 0) >= (f.get(b!) ?? 0) ? a! : b!;
    const fuller = emptier === a ? b! : a!;
    // A server forced onto the fuller host warms the scheduler's host facts (and keeps it the fuller one).
    const warm = await tc.request('POST', `${V}/servers`, {
      token: tc.adminToken,
      headers: MV,
      body: {
        server: {
          name: 'warm',
          flavorRef: '42',
          imageRef: imageId,
          networks: 'none',
          availability_zone: `nova:${fuller}`,
        },
      },
    });
    assert.equal(warm.status, 202, warm.text);
    await waitForStatus(tc, warm.body.server.id, tc.adminToken, 'ACTIVE');
    f = await free();
    assert.ok((f.get(emptier) ?? 0) > (f.get(fuller) ?? 0), 'the disabled host would be the weigher’s pick');
    const list = await tc.request('GET', `${V}/os-services?binary=nova-compute`, {
      token: tc.adminToken,
      headers: MV,
    });
    const svc = list.body.services.find((x: { host: string }) => x.host === emptier);
    const dis = await tc.request('PUT', `${V}/os-services/${svc.id}`, {
      token: tc.adminToken,
      headers: MV,
      body: { status: 'disabled' },
    });
    assert.equal(dis.status, 200, dis.text);
    try {
      const next = await create('after-disable');
      assert.equal(await hostOf(next), fuller);
    } finally {
      await tc.request('PUT', `${V}/os-services/${svc.id}`, {
        token: tc.adminToken,
        headers: MV,
        body: { status: 'enabled' },
      });
    }
  });

  test('unshelve to a named host (2.91) lands there', async () => {
    const id = await create('shelver');
    const before = await hostOf(id);
    const other = before === 'fake-host-000' ? 'fake-host-001' : 'fake-host-000';
    const sh = await tc.request('POST', `${V}/servers/${id}/action`, {
      token: tc.adminToken,
      headers: MV,
      body: { shelve: null },
    });
    assert.equal(sh.status, 202, sh.text);
    await waitForStatus(tc, id, tc.adminToken, 'SHELVED_OFFLOADED');
    const un = await tc.request('POST', `${V}/servers/${id}/action`, {
      token: tc.adminToken,
      headers: MV,
      body: { unshelve: { host: other } },
    });
    assert.equal(un.status, 202, un.text);
    await waitForStatus(tc, id, tc.adminToken, 'ACTIVE');
    assert.equal(await hostOf(id), other);
  });
});

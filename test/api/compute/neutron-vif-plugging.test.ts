// Nova's wait for network-vif-plugged: a build whose ports never come up ends ERROR with Nova's fault when that
// is fatal, and ACTIVE after the timeout when it is not; the events arrive in-process or over the API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestCloud, TestUser } from '../../support/cloud.ts';
import { nova, V, waitForStatus } from './compute-support.ts';
import {
  makeNetwork,
  ports,
  startNeutronCloud,
  type TestNetwork,
  uploadTestImage,
} from './neutron-support.ts';

let tc: TestCloud;
let user: TestUser;
let imageId: string;
let net: TestNetwork;

before(async () => {
  tc = await startNeutronCloud();
  imageId = await uploadTestImage(tc);
  user = await tc.makeUser();
  net = await makeNetwork(tc, user.token, 'vifnet', '10.70.0.0/24');
  // No data plane: ports stay DOWN, so no network-vif-plugged comes unless a test sends one.
  await tc.cloud.networkAgent.stop();
  tc.cloud.networkAgent.plug = async () => {};
});
after(async () => {
  await tc.close();
});

function plugging(timeoutMs: number, fatal: boolean): void {
  (tc.cloud.compute.context as { vifPlugging: { timeoutMs: number; fatal: boolean } }).vifPlugging = {
    timeoutMs,
    fatal,
  };
}

async function boot(): Promise<string> {
  const r = await nova(tc, 'POST', '/servers', {
    token: user.token,
    mv: '2.93',
    body: { server: { name: 'vif', flavorRef: '1', imageRef: imageId, networks: [{ uuid: net.id }] } },
  });
  assert.equal(r.status, 202, r.text);
  return r.body.server.id;
}

describe('waiting for network-vif-plugged', () => {
  test('no event in time and vif_plugging_is_fatal: ERROR with "Virtual Interface creation failed"', async () => {
    plugging(150, true);
    const id = await boot();
    const s = await waitForStatus(tc, id, user.token, 'ERROR');
    assert.equal((s['fault'] as { message: string }).message, 'Virtual Interface creation failed');
    // The build's ports are given back.
    assert.equal((await ports(tc, `device_id=${id}`)).length, 0);
  });

  test('no event in time, not fatal: the server goes ACTIVE anyway', async () => {
    plugging(150, false);
    const id = await boot();
    await waitForStatus(tc, id, user.token, 'ACTIVE');
  });

  test('the event over POST /os-server-external-events lets the build finish', async () => {
    plugging(60_000, true);
    const id = await boot();
    let port: Record<string, unknown> | undefined;
    for (let i = 0; i < 500 && !port; i++) {
      await new Promise((r) => setTimeout(r, 10));
      [port] = await ports(tc, `device_id=${id}`);
    }
    assert.ok(port, 'the build made a port');
    // The server's host is set before its ports are made; the event is accepted once it is there.
    const r = await tc.request('POST', `${V}/os-server-external-events`, {
      token: tc.adminToken,
      body: {
        events: [{ name: 'network-vif-plugged', server_uuid: id, tag: port['id'], status: 'completed' }],
      },
    });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(tc, id, user.token, 'ACTIVE');
  });
});

// OS-DCF:diskConfig: kept from create (else the image's auto_disk_config property), changed by update, rebuild
// and resize (which, like migrate, resets it to MANUAL when the request names none); images that disable it
// refuse AUTO.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, insertServer, nova, uploadTestImage, waitForStatus } from './compute-support.ts';

const DCF = 'OS-DCF:diskConfig';

let tc: TestCloud;
let user: TestUser;
let plain: string;
let autoImage: string;
let disabledImage: string;

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
  plain = await uploadTestImage(tc);
  autoImage = await uploadTestImage(tc, { auto_disk_config: 'True' });
  disabledImage = await uploadTestImage(tc, { auto_disk_config: 'disabled' });
});
after(async () => {
  await tc.close();
});

async function create(imageRef: string, dcf?: string): Promise<{ id: string; dcf: string }> {
  const server: Record<string, unknown> = { name: 'dcf', flavorRef: '1', imageRef, networks: 'none' };
  if (dcf) server[DCF] = dcf;
  const r = await nova(tc, 'POST', '/servers', { token: user.token, mv: '2.93', body: { server } });
  assert.equal(r.status, 202, r.text);
  return { id: r.body.server.id, dcf: r.body.server[DCF] };
}

async function shown(id: string): Promise<string> {
  const r = await nova(tc, 'GET', `/servers/${id}`, { token: user.token });
  assert.equal(r.status, 200, r.text);
  return r.body.server[DCF];
}

const act = (id: string, body: unknown) =>
  nova(tc, 'POST', `/servers/${id}/action`, { token: user.token, body, mv: '2.93' });

describe('OS-DCF:diskConfig', () => {
  test('create: MANUAL by default, the request, else the image property; an image may disable AUTO', async () => {
    const d = await create(plain);
    assert.equal(d.dcf, 'MANUAL');
    const a = await create(plain, 'AUTO');
    assert.equal(a.dcf, 'AUTO');
    await waitForStatus(tc, a.id, user.token, 'ACTIVE');
    assert.equal(await shown(a.id), 'AUTO');
    assert.equal(await shown(d.id), 'MANUAL');
    // The list shows it too.
    const list = await nova(tc, 'GET', '/servers/detail', { token: user.token });
    const mine = list.body.servers.find((s: { id: string }) => s.id === a.id);
    assert.equal(mine[DCF], 'AUTO');

    assert.equal((await create(autoImage)).dcf, 'AUTO');
    assert.equal((await create(autoImage, 'MANUAL')).dcf, 'MANUAL');
    assert.equal((await create(disabledImage)).dcf, 'MANUAL');
    const refused = await nova(tc, 'POST', '/servers', {
      token: user.token,
      mv: '2.93',
      body: {
        server: { name: 'x', flavorRef: '1', imageRef: disabledImage, networks: 'none', [DCF]: 'AUTO' },
      },
    });
    expectFault(refused, 400, `Requested image ${disabledImage} has automatic disk resize disabled.`);
    const invalid = await nova(tc, 'POST', '/servers', {
      token: user.token,
      mv: '2.93',
      body: { server: { name: 'x', flavorRef: '1', imageRef: plain, networks: 'none', [DCF]: 'auto' } },
    });
    expectFault(invalid, 400);
  });

  test('update sets it either way', async () => {
    const { id } = await create(plain);
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    for (const want of ['AUTO', 'MANUAL', 'AUTO']) {
      const r = await nova(tc, 'PUT', `/servers/${id}`, {
        token: user.token,
        body: { server: { [DCF]: want } },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.server[DCF], want);
      assert.equal(await shown(id), want);
    }
    // A rename leaves it alone.
    await nova(tc, 'PUT', `/servers/${id}`, { token: user.token, body: { server: { name: 'renamed' } } });
    assert.equal(await shown(id), 'AUTO');
  });

  test('rebuild takes the request, else the new image property', async () => {
    const { id } = await create(plain, 'AUTO');
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    const r = await act(id, { rebuild: { imageRef: plain, [DCF]: 'MANUAL' } });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.server[DCF], 'MANUAL');
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    assert.equal(await shown(id), 'MANUAL');
    assert.equal((await act(id, { rebuild: { imageRef: plain, [DCF]: 'AUTO' } })).status, 202);
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    assert.equal(await shown(id), 'AUTO');
    // Named by neither: the image's property (none is MANUAL).
    assert.equal((await act(id, { rebuild: { imageRef: plain } })).status, 202);
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    assert.equal(await shown(id), 'MANUAL');
    assert.equal((await act(id, { rebuild: { imageRef: autoImage } })).status, 202);
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    assert.equal(await shown(id), 'AUTO');
    expectFault(
      await act(id, { rebuild: { imageRef: disabledImage, [DCF]: 'AUTO' } }),
      400,
      `Requested image ${disabledImage} has automatic disk resize disabled.`,
    );
  });

  test('resize sets the request, MANUAL when it names none', async () => {
    const { id } = await create(plain, 'MANUAL');
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    assert.equal((await act(id, { resize: { flavorRef: '2', [DCF]: 'AUTO' } })).status, 202);
    await waitForStatus(tc, id, user.token, 'VERIFY_RESIZE');
    assert.equal(await shown(id), 'AUTO');
    assert.equal((await act(id, { confirmResize: null })).status, 204);
    await waitForStatus(tc, id, user.token, 'ACTIVE');
    assert.equal(await shown(id), 'AUTO');
    assert.equal((await act(id, { resize: { flavorRef: '3' } })).status, 202);
    await waitForStatus(tc, id, user.token, 'VERIFY_RESIZE');
    assert.equal(await shown(id), 'MANUAL');
  });

  test('resize to AUTO is refused when the boot image disabled it', async () => {
    const id = await insertServer(tc, {
      projectId: user.projectId,
      userId: user.id,
      host: 'parked-host',
      flavor: { vcpus: 1, memory_mb: 512, root_gb: 1 },
    });
    await tc.cloud.compute.context.write(async (trx) => {
      await trx
        .updateTable('compute_servers')
        .set({
          system_metadata: JSON.stringify({ image_auto_disk_config: 'Disabled' }),
          image_id: disabledImage,
        })
        .where('id', '=', id)
        .execute();
    });
    expectFault(
      await act(id, { resize: { flavorRef: '2', [DCF]: 'AUTO' } }),
      400,
      `Requested image ${disabledImage} has automatic disk resize disabled.`,
    );
    assert.equal((await act(id, { resize: { flavorRef: '2', [DCF]: 'MANUAL' } })).status, 202);
  });
});

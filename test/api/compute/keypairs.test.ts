// /os-keypairs: generation and import (ssh and x509), fingerprints, per-user ownership, 2.10 user_id for
// admins, 2.35 paging, 2.92 import only, quota and Nova's errors.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser, uniqueName } from '../../support/cloud.ts';
import { expectFault, expectKeys, nova } from './compute-support.ts';

let tc: TestCloud;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  tc = await startTestCloud({ compute: { quotas: { key_pairs: 5 } } } as never);
  alice = await tc.makeUser();
  bob = await tc.makeUser({ projectId: alice.projectId });
});
after(async () => {
  await tc.close();
});

function md5Colon(b64: string): string {
  return createHash('md5').update(Buffer.from(b64, 'base64')).digest('hex').match(/../g)!.join(':');
}

describe('create and import', () => {
  test('2.1 generates an RSA key: 200, PEM private key, OpenSSH public key, MD5 fingerprint', async () => {
    const res = await nova(tc, 'POST', '/os-keypairs', {
      token: alice.token,
      body: { keypair: { name: 'gen-21' } },
    });
    assert.equal(res.status, 200, res.text);
    const kp = res.body.keypair;
    expectKeys(kp, ['name', 'public_key', 'private_key', 'fingerprint', 'user_id']);
    assert.equal(kp.user_id, alice.id);
    assert.match(kp.private_key, /^-----BEGIN RSA PRIVATE KEY-----/);
    const [type, blob, comment] = kp.public_key.split(' ');
    assert.equal(type, 'ssh-rsa');
    assert.equal(comment, 'Generated-by-Nova');
    assert.equal(kp.fingerprint, md5Colon(blob));
    // The private key matches the public one: same modulus.
    const jwk = createPrivateKey(kp.private_key).export({ format: 'jwk' }) as { n: string };
    const n = Buffer.from(jwk.n, 'base64url');
    assert.ok(Buffer.from(blob, 'base64').includes(n));
    assert.equal(n.length, 256);
  });

  test('2.2 adds type and answers 201; import keeps the given key', async () => {
    const gen = await nova(tc, 'POST', '/os-keypairs', {
      token: alice.token,
      mv: '2.2',
      body: { keypair: { name: 'gen-22' } },
    });
    assert.equal(gen.status, 201);
    assert.equal(gen.body.keypair.type, 'ssh');
    const pub = gen.body.keypair.public_key as string;
    const imp = await nova(tc, 'POST', '/os-keypairs', {
      token: bob.token,
      mv: '2.2',
      body: { keypair: { name: 'imported', public_key: pub } },
    });
    assert.equal(imp.status, 201, imp.text);
    expectKeys(imp.body.keypair, ['name', 'public_key', 'fingerprint', 'user_id', 'type']);
    assert.equal(imp.body.keypair.fingerprint, gen.body.keypair.fingerprint);
    const bad = await nova(tc, 'POST', '/os-keypairs', {
      token: bob.token,
      body: { keypair: { name: 'bad', public_key: 'ssh-rsa not-a-key' } },
    });
    expectFault(bad, 400, 'Keypair data is invalid: failed to generate fingerprint');
  });

  test('x509: generated certificate and import, SHA1 fingerprint', async () => {
    const gen = await nova(tc, 'POST', '/os-keypairs', {
      token: alice.token,
      mv: '2.2',
      body: { keypair: { name: 'x509-gen', type: 'x509' } },
    });
    assert.equal(gen.status, 201, gen.text);
    const cert = new X509Certificate(gen.body.keypair.public_key);
    assert.equal(gen.body.keypair.fingerprint, cert.fingerprint.toLowerCase());
    assert.match(cert.subject, new RegExp(`CN=${alice.id}`));
    assert.ok(Buffer.from(gen.body.keypair.private_key, 'base64').length > 100);
    const imp = await nova(tc, 'POST', '/os-keypairs', {
      token: bob.token,
      mv: '2.2',
      body: { keypair: { name: 'x509-imp', type: 'x509', public_key: gen.body.keypair.public_key } },
    });
    assert.equal(imp.status, 201, imp.text);
    assert.equal(imp.body.keypair.fingerprint, gen.body.keypair.fingerprint);
    const bad = await nova(tc, 'POST', '/os-keypairs', {
      token: bob.token,
      mv: '2.2',
      body: { keypair: { name: 'x509-bad', type: 'x509', public_key: 'nope' } },
    });
    expectFault(bad, 400, /^Keypair data is invalid: failed to generate X509 fingerprint/);
  });

  test('duplicates, names and body validation', async () => {
    const name = 'dup key';
    assert.equal(
      (await nova(tc, 'POST', '/os-keypairs', { token: alice.token, body: { keypair: { name } } })).status,
      200,
    );
    expectFault(
      await nova(tc, 'POST', '/os-keypairs', { token: alice.token, body: { keypair: { name } } }),
      409,
      "Key pair 'dup key' already exists.",
    );
    for (const keypair of [
      {},
      { name: '' },
      { name: 'a/b' },
      { name: 'x', type: 'rsa' },
      { name: 'x', extra: 1 },
    ]) {
      expectFault(
        await nova(tc, 'POST', '/os-keypairs', { token: alice.token, mv: '2.2', body: { keypair } }),
        400,
      );
    }
    // 2.92: '@' and '.' allowed, but a public key is required.
    expectFault(
      await nova(tc, 'POST', '/os-keypairs', {
        token: alice.token,
        mv: '2.92',
        body: { keypair: { name: 'a@b.c' } },
      }),
      400,
    );
    expectFault(
      await nova(tc, 'POST', '/os-keypairs', { token: alice.token, body: { keypair: { name: 'a@b' } } }),
      400,
    );
  });
});

describe('list, show, delete, ownership', () => {
  test('a user sees only its own keypairs; 2.2 type in list; show has Nova fields', async () => {
    const list = await nova(tc, 'GET', '/os-keypairs', { token: alice.token, mv: '2.2' });
    assert.equal(list.status, 200);
    const names = list.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name);
    assert.ok(names.includes('gen-21') && !names.includes('imported'));
    expectKeys(list.body.keypairs[0].keypair, ['name', 'public_key', 'fingerprint', 'type']);
    const show = await nova(tc, 'GET', '/os-keypairs/gen-21', { token: alice.token });
    expectKeys(show.body.keypair, [
      'name',
      'public_key',
      'fingerprint',
      'user_id',
      'created_at',
      'deleted',
      'deleted_at',
      'id',
      'updated_at',
    ]);
    assert.equal(show.body.keypair.deleted, false);
    assert.equal(typeof show.body.keypair.id, 'number');
    expectFault(
      await nova(tc, 'GET', '/os-keypairs/gen-21', { token: bob.token }),
      404,
      `Keypair gen-21 not found for user ${bob.id}`,
    );
  });

  test('2.10: user_id for admins only', async () => {
    const asAdmin = await nova(tc, 'GET', `/os-keypairs?user_id=${alice.id}`, {
      token: tc.adminToken,
      mv: '2.10',
    });
    assert.equal(asAdmin.status, 200);
    assert.ok(asAdmin.body.keypairs.length >= 2);
    expectFault(
      await nova(tc, 'GET', `/os-keypairs?user_id=${alice.id}`, { token: bob.token, mv: '2.10' }),
      403,
    );
    const made = await nova(tc, 'POST', '/os-keypairs', {
      token: tc.adminToken,
      mv: '2.10',
      body: { keypair: { name: 'for-bob', user_id: bob.id } },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.body.keypair.user_id, bob.id);
    expectFault(
      await nova(tc, 'POST', '/os-keypairs', {
        token: alice.token,
        mv: '2.10',
        body: { keypair: { name: 'x', user_id: bob.id } },
      }),
      403,
    );
    const shown = await nova(tc, 'GET', `/os-keypairs/for-bob?user_id=${bob.id}`, {
      token: tc.adminToken,
      mv: '2.10',
    });
    assert.equal(shown.status, 200);
    assert.equal(
      (
        await nova(tc, 'DELETE', `/os-keypairs/for-bob?user_id=${bob.id}`, {
          token: tc.adminToken,
          mv: '2.10',
        })
      ).status,
      204,
    );
  });

  test('2.35 pagination by name with links', async () => {
    const u = await tc.makeUser();
    for (const n of ['k1', 'k2', 'k3']) {
      const r = await nova(tc, 'POST', '/os-keypairs', { token: u.token, body: { keypair: { name: n } } });
      assert.equal(r.status, 200);
    }
    const p1 = await nova(tc, 'GET', '/os-keypairs?limit=2', { token: u.token, mv: '2.35' });
    assert.deepEqual(
      p1.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name),
      ['k1', 'k2'],
    );
    assert.match(p1.body.keypairs_links[0].href, /marker=k2/);
    const p2 = await nova(tc, 'GET', '/os-keypairs?limit=2&marker=k2', { token: u.token, mv: '2.35' });
    assert.deepEqual(
      p2.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name),
      ['k3'],
    );
    assert.equal(p2.body.keypairs_links, undefined);
    expectFault(await nova(tc, 'GET', '/os-keypairs?marker=zz', { token: u.token, mv: '2.35' }), 400);
    // Before 2.35 limit is ignored.
    const all = await nova(tc, 'GET', '/os-keypairs?limit=1', { token: u.token });
    assert.equal(all.body.keypairs.length, 3);
  });

  test('delete: 202 at 2.1, 204 from 2.2, 404 after', async () => {
    await nova(tc, 'POST', '/os-keypairs', { token: bob.token, body: { keypair: { name: 'del-a' } } });
    await nova(tc, 'POST', '/os-keypairs', { token: bob.token, body: { keypair: { name: 'del-b' } } });
    assert.equal((await nova(tc, 'DELETE', '/os-keypairs/del-a', { token: bob.token })).status, 202);
    assert.equal(
      (await nova(tc, 'DELETE', '/os-keypairs/del-b', { token: bob.token, mv: '2.2' })).status,
      204,
    );
    expectFault(await nova(tc, 'DELETE', '/os-keypairs/del-b', { token: bob.token }), 404);
  });

  test('quota key_pairs: 403 with Nova message', async () => {
    const u = await tc.makeUser();
    for (let i = 0; i < 5; i++) {
      const r = await nova(tc, 'POST', '/os-keypairs', {
        token: u.token,
        body: { keypair: { name: uniqueName('q') } },
      });
      assert.equal(r.status, 200, r.text);
    }
    expectFault(
      await nova(tc, 'POST', '/os-keypairs', { token: u.token, body: { keypair: { name: 'one-too-many' } } }),
      403,
      'Quota exceeded, too many key pairs.',
    );
  });
});

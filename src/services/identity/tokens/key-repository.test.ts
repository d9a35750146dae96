// Tests for the on-disk Fernet key repository's setup, rotation and load semantics.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InvalidToken } from './errors.ts';
import { decrypt, encrypt } from './fernet.ts';
import { KeyRepository } from './key-repository.ts';

const root = await mkdtemp(join(tmpdir(), 'monostack-keys-'));
after(() => rm(root, { recursive: true, force: true }));
const freshDir = async (): Promise<string> => join(await mkdtemp(join(root, 'repo-')), 'fernet-keys');
const files = async (dir: string): Promise<string[]> => (await readdir(dir)).sort();
const keyText = (dir: string, name: string): Promise<string> => readFile(join(dir, name), 'utf8');

describe('KeyRepository', () => {
  it('sets up keys 0 and 1 in a 0700 directory with 0600 files, idempotently', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir);
    await repo.setup();
    assert.deepEqual(await files(dir), ['0', '1']);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const name of ['0', '1']) {
      assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600);
      assert.match(await keyText(dir, name), /^[A-Za-z0-9_-]{43}=$/);
    }
    const before = [await keyText(dir, '0'), await keyText(dir, '1')];
    await repo.setup();
    assert.deepEqual([await keyText(dir, '0'), await keyText(dir, '1')], before);
    assert.deepEqual(await files(dir), ['0', '1']);
  });

  it('rotates: staged becomes primary max+1, a new staged key is written, old keys are pruned', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir, 3);
    await repo.setup();
    const staged = await keyText(dir, '0');
    await repo.rotate();
    assert.deepEqual(await files(dir), ['0', '1', '2']);
    assert.equal(await keyText(dir, '2'), staged);
    assert.notEqual(await keyText(dir, '0'), staged);
    await repo.rotate();
    assert.deepEqual(await files(dir), ['0', '2', '3']);
    await repo.rotate();
    assert.deepEqual(await files(dir), ['0', '3', '4']);
  });

  it('honours larger maxActiveKeys', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir, 5);
    await repo.setup();
    for (let i = 0; i < 6; i++) await repo.rotate();
    assert.deepEqual(await files(dir), ['0', '4', '5', '6', '7']);
    assert.throws(() => new KeyRepository(dir, 1), RangeError);
  });

  it('loads primary first, secondaries descending, staged last', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir, 4);
    await repo.setup();
    await repo.rotate();
    await repo.rotate();
    const expected = await Promise.all(['3', '2', '1', '0'].map((name) => keyText(dir, name)));
    assert.deepEqual(
      (await repo.load()).map((key) => key.encoded),
      expected,
    );
  });

  it('ignores non-key and empty files and rejects corrupt keys', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir);
    await repo.setup();
    await writeFile(join(dir, '0.tmp'), 'not a key');
    await writeFile(join(dir, 'README'), 'hello');
    await writeFile(join(dir, '7'), '');
    assert.equal((await repo.load()).length, 2);
    await writeFile(join(dir, '8'), 'not a key');
    await assert.rejects(repo.load(), /invalid Fernet key file 8/);
  });

  it('keeps old tokens valid for one rotation and rejects them once their key is pruned', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir, 3);
    await repo.setup();
    const token = encrypt((await repo.load())[0]!, new TextEncoder().encode('payload'), 1);
    await repo.rotate();
    assert.equal(decrypt(await repo.load(), token).plaintext.toString(), 'payload');
    await repo.rotate();
    const pruned = await repo.load();
    assert.throws(() => decrypt(pruned, token), InvalidToken);
  });

  it('accepts tokens from the staged key (a peer that already rotated)', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir);
    await repo.setup();
    const keys = await repo.load();
    const token = encrypt(keys[keys.length - 1]!, new TextEncoder().encode('early'), 1);
    assert.equal(decrypt(keys, token).plaintext.toString(), 'early');
  });

  it('serializes concurrent rotations and leaves no temp files', async () => {
    const dir = await freshDir();
    const repo = new KeyRepository(dir, 4);
    await Promise.all([repo.setup(), repo.rotate(), repo.rotate(), repo.setup()]);
    assert.deepEqual(await files(dir), ['0', '1', '2', '3']);
  });

  it('refuses to rotate an uninitialised repository', async () => {
    const dir = await freshDir();
    await assert.rejects(new KeyRepository(dir).rotate());
  });
});

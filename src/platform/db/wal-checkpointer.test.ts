// The WAL of a file database is checkpointed by the worker thread (the writer's own threshold is far off), and
// closing the database stops the worker.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, sql } from './database.ts';

test('a worker thread copies the WAL into the database file while the writer only writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'monostack-wal-'));
  const file = join(dir, 'db.sqlite');
  const database = await openDatabase(`sqlite:${file}`);
  try {
    const db = database.db;
    await sql`create table t (id integer primary key, body text not null)`.execute(db);
    const before = (await stat(file)).size;
    // ~2 MiB through the WAL, well under the writer's own checkpoint threshold (20,000 pages).
    for (let i = 0; i < 200; i++) await sql`insert into t (body) values (${'x'.repeat(10_000)})`.execute(db);
    let size = (await stat(file)).size;
    for (let i = 0; i < 40 && size < before + 1_500_000; i++) {
      await sleep(100);
      size = (await stat(file)).size;
    }
    assert.ok(size >= before + 1_500_000, `database file ${before} → ${size} bytes: nothing checkpointed`);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});

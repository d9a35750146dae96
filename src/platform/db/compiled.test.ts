// Compiled statements on SQLite run on the connection directly only where that is safe: inside their own
// transaction, or a read while no transaction is open. Anything else still waits for the connection, so nobody
// reads another caller's uncommitted rows or writes into its transaction.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { compiled, compiledInsert, compiledUpdate } from './compiled.ts';
import { type Database, openDatabase, sql } from './database.ts';

interface Tables {
  t: { id: string; v: number };
}
type Db = Kysely<Tables>;

const byId = compiled<Tables, [string], Tables['t']>(1, (db, id: string) =>
  db.selectFrom('t').selectAll().where('id', '=', id),
);
const insert = compiledInsert<Tables, 't'>('t');
const update = compiledUpdate<Tables, 't'>('t', ['id']);

async function withDb(fn: (db: Db) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'monostack-compiled-'));
  const database: Database = await openDatabase(`sqlite:${join(dir, 'db.sqlite')}`);
  try {
    await sql`create table t (id text primary key, v integer not null)`.execute(database.db);
    await fn(database.db as Db);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens a transaction that inserts `id`, holds the connection across real turns of the event loop, then fails. */
function failingTransaction(db: Db, id: string): { inserted: Promise<void>; done: Promise<unknown> } {
  let inserted!: () => void;
  const ready = new Promise<void>((r) => {
    inserted = r;
  });
  const done = db
    .transaction()
    .execute(async (trx) => {
      await insert(trx, { id, v: 1 });
      inserted();
      await sleep(50);
      throw new Error('rolled back');
    })
    .catch((e: unknown) => e);
  return { inserted: ready, done };
}

test('inside a transaction, compiled statements run on the connection and see its own writes', async () => {
  await withDb(async (db) => {
    await db.transaction().execute(async (trx) => {
      const spy = mock.method(trx, 'executeQuery');
      await insert(trx, { id: 'a', v: 1 });
      assert.equal(await update(trx, { v: 2 }, 'a'), 1);
      assert.deepEqual(await byId(trx, 'a'), [{ id: 'a', v: 2 }]);
      assert.equal(spy.mock.callCount(), 0, 'went through kysely');
    });
    assert.deepEqual(await byId(db, 'a'), [{ id: 'a', v: 2 }]);
  });
});

test('a read outside while another transaction is open waits for it and never sees its rolled-back row', async () => {
  await withDb(async (db) => {
    const tx = failingTransaction(db, 'x');
    await tx.inserted;
    const read = byId(db, 'x');
    assert.match(String(await tx.done), /rolled back/);
    assert.deepEqual(await read, []);
  });
});

test('a write outside a transaction is not swallowed by another caller’s open transaction', async () => {
  await withDb(async (db) => {
    const tx = failingTransaction(db, 'x');
    await tx.inserted;
    const write = insert(db, { id: 'y', v: 7 });
    assert.match(String(await tx.done), /rolled back/);
    await write;
    assert.deepEqual(await byId(db, 'y'), [{ id: 'y', v: 7 }]);
    assert.deepEqual(await byId(db, 'x'), []);
  });
});

test('a read with no transaction open runs directly and sees committed rows', async () => {
  await withDb(async (db) => {
    await insert(db, { id: 'c', v: 3 });
    const spy = mock.method(db, 'executeQuery');
    assert.deepEqual(await byId(db, 'c'), [{ id: 'c', v: 3 }]);
    assert.equal(spy.mock.callCount(), 0, 'went through kysely');
  });
});

// The store contract on every database dialect: migrations, the change feed, identity writes and constraint
// errors behave the same on SQLite and PostgreSQL. PostgreSQL comes from MONOSTACK_TEST_PG_URL (scripts/test.sh
// starts a throwaway cluster); without it the PostgreSQL half skips, except in CI where that is a failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIGRATIONS } from '../../src/compose/cloud.ts';
import { openDatabase } from '../../src/platform/db/database.ts';
import { isUniqueViolation } from '../../src/platform/db/errors.ts';
import { migrate, migrationStatus } from '../../src/platform/db/migrate.ts';
import { createLogger } from '../../src/platform/log.ts';
import { type ChangeEvent, ChangeFeed } from '../../src/platform/watch/feed.ts';
import { skipFor, TEST_DIALECTS } from '../support/databases.ts';

for (const d of TEST_DIALECTS) {
  const open = async () => openDatabase(await d.freshUrl());
  describe(`database contract: ${d.name}`, { skip: skipFor(d) }, () => {
    it('runs in CI with every dialect available', () => {
      assert.equal(d.unavailable, undefined, d.unavailable);
    });

    it('migrates once, records versions, and is idempotent', async () => {
      const db = await open();
      try {
        const first = await migrate(db, MIGRATIONS);
        assert.ok(first.includes('identity 0001-initial'));
        assert.deepEqual(await migrate(db, MIGRATIONS), []);
        const status = await migrationStatus(db);
        const latest = (service: string) =>
          Math.max(...MIGRATIONS.find((m) => m.service === service)!.migrations.map((m) => m.version));
        assert.equal(status['identity'], latest('identity'));
        assert.equal(status['platform'], 1);
      } finally {
        await db.close();
      }
    });

    it('orders feed events, delivers only committed ones, and wakes subscribers', async () => {
      const db = await open();
      const feed = new ChangeFeed(db, createLogger({ level: 'silent' }));
      try {
        await migrate(db, MIGRATIONS);
        await feed.start({ pollMs: 50 });
        const seen: ChangeEvent[] = [];
        feed.subscribe(
          (e) => e.service === 'test',
          (evs) => void seen.push(...evs),
        );
        await db.db.transaction().execute(async (trx) => {
          await feed.append(trx, { service: 'test', kind: 'thing', resourceId: 'a', action: 'create' });
          await feed.append(trx, {
            service: 'test',
            kind: 'thing',
            resourceId: 'b',
            action: 'create',
            data: { x: 1 },
          });
        });
        await assert.rejects(
          db.db.transaction().execute(async (trx) => {
            await feed.append(trx, {
              service: 'test',
              kind: 'thing',
              resourceId: 'rolled-back',
              action: 'create',
            });
            throw new Error('abort');
          }),
        );
        feed.wake();
        await feed.settle();
        assert.deepEqual(
          seen.map((e) => e.resourceId),
          ['a', 'b'],
        );
        assert.ok(seen[0]!.revision < seen[1]!.revision);
        assert.deepEqual(seen[1]!.data, { x: 1 });
        const waited = await feed.waitFor(seen[1]!.revision, 20);
        assert.deepEqual(waited, []);
      } finally {
        await feed.stop();
        await db.close();
      }
    });

    it('reports unique violations the same way', async () => {
      const db = await open();
      try {
        await migrate(db, MIGRATIONS);
        const row = {
          id: 'd1',
          name: 'same',
          description: '',
          enabled: 1,
          extra: '{}',
          created_at: new Date().toISOString(),
        };
        await db.db.insertInto('identity_domains').values(row).execute();
        const err = await db.db
          .insertInto('identity_domains')
          .values({ ...row, id: 'd2' })
          .execute()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(isUniqueViolation(err), `expected a unique violation, got ${String(err)}`);
        const count = await db.db
          .selectFrom('identity_domains')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst();
        assert.equal(Number(count?.n), 1);
      } finally {
        await db.close();
      }
    });
  });
}

// Build admission: a new build waits only while the event loop is saturated and enough builds are under way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeEvent } from '../../../src/platform/watch/feed.ts';
import { BuildAdmission } from '../../../src/services/compute/admission.ts';

/** A feed stand-in: events go straight to the subscribers whose filter takes them. */
function fakeFeed() {
  const subs: { filter: (e: ChangeEvent) => boolean; fn: (e: readonly ChangeEvent[]) => void }[] = [];
  let revision = 0;
  return {
    subscribe(filter: (e: ChangeEvent) => boolean, fn: (e: readonly ChangeEvent[]) => void | Promise<void>) {
      const s = { filter, fn: fn as (e: readonly ChangeEvent[]) => void };
      subs.push(s);
      return () => subs.splice(subs.indexOf(s), 1);
    },
    emit(resourceId: string, action: string, data: Record<string, unknown>) {
      const e = {
        revision: ++revision,
        service: 'compute',
        kind: 'server',
        resourceId,
        action,
        projectId: 'p',
        data,
        createdAt: '',
      } as unknown as ChangeEvent;
      for (const s of subs) if (s.filter(e)) s.fn([e]);
    },
  };
}

/** Keeps the event loop busy: 30 ms of spinning at a time (timers still run between), until stopped. */
function burnCpu(): () => void {
  let on = true;
  const spin = () => {
    if (!on) return;
    const end = performance.now() + 30;
    while (performance.now() < end) {}
    setImmediate(spin);
  };
  spin();
  return () => {
    on = false;
  };
}

describe('build admission', () => {
  it('admits at once when few builds are under way, even on a saturated loop', async () => {
    const feed = fakeFeed();
    const a = new BuildAdmission(feed, { minInFlight: 3, windowMs: 20 });
    a.start();
    const stop = burnCpu();
    try {
      feed.emit('s1', 'create', { task: 'scheduling' });
      feed.emit('s2', 'create', { task: 'scheduling' });
      await sleep(100);
      const t = performance.now();
      await a.admit();
      assert.ok(performance.now() - t < 50);
      assert.equal(a.stats.waited, 0);
      assert.equal(a.inFlight, 2);
    } finally {
      stop();
      a.stop();
    }
  });

  it('holds a build back while saturated with builds under way, and lets it go once they finish', async () => {
    const feed = fakeFeed();
    const a = new BuildAdmission(feed, { minInFlight: 3, windowMs: 20, maxWaitMs: 10_000 });
    a.start();
    const stop = burnCpu();
    try {
      for (const id of ['s1', 's2', 's3']) feed.emit(id, 'create', { task: 'scheduling' });
      feed.emit('s3', 'update', { task: 'spawning' }); // still under way
      await sleep(150);
      let admitted = false;
      const p = a.admit().then(() => {
        admitted = true;
      });
      await sleep(300);
      assert.equal(admitted, false, 'waits while the loop is saturated and 3 builds are under way');
      feed.emit('s1', 'update', { task: null }); // done: 2 left, under the minimum
      await p;
      assert.equal(admitted, true);
      assert.equal(a.stats.waited, 1);
      assert.equal(a.inFlight, 2);
      feed.emit('s2', 'delete', {});
      assert.equal(a.inFlight, 1);
    } finally {
      stop();
      a.stop();
    }
  });

  it('lets a build go when the loop is idle, however many are under way', async () => {
    const feed = fakeFeed();
    const a = new BuildAdmission(feed, { minInFlight: 2, windowMs: 20 });
    a.start();
    try {
      for (const id of ['s1', 's2', 's3']) feed.emit(id, 'create', { task: 'scheduling' });
      await sleep(100);
      const t = performance.now();
      await a.admit();
      assert.ok(performance.now() - t < 50);
      assert.equal(a.stats.waited, 0);
    } finally {
      a.stop();
    }
  });

  it('lets a crowd of waiters through a few per sampling window, not all at once', async () => {
    const feed = fakeFeed();
    const a = new BuildAdmission(feed, { minInFlight: 2, windowMs: 100 });
    a.start();
    try {
      for (const id of ['s1', 's2', 's3']) feed.emit(id, 'create', { task: 'scheduling' });
      await sleep(150);
      const t = performance.now();
      const passed: number[] = [];
      await Promise.all(
        Array.from({ length: 6 }, () => a.admit().then(() => passed.push(performance.now() - t))),
      );
      passed.sort((x, y) => x - y);
      assert.equal(passed.length, 6);
      assert.ok(passed[1]! < 20, `the first two pass at once (${passed[1]} ms)`);
      assert.ok(passed[2]! >= 20, `the third waits for the next window (${passed[2]} ms)`);
    } finally {
      a.stop();
    }
  });

  it('counts admitted requests until they are done, so the gate holds before their builds show up', async () => {
    const feed = fakeFeed();
    const a = new BuildAdmission(feed, { minInFlight: 2, windowMs: 20, maxWaitMs: 10_000 });
    a.start();
    const stop = burnCpu();
    try {
      await sleep(100);
      const d1 = await a.admit();
      const d2 = await a.admit(); // two admitted, no build in the feed yet: the next one waits
      let third = false;
      const p = a.admit().then(() => {
        third = true;
      });
      await sleep(300);
      assert.equal(third, false);
      d1();
      d1(); // twice is once
      await p;
      assert.equal(third, true);
      d2();
    } finally {
      stop();
      a.stop();
    }
  });

  it('never waits longer than maxWaitMs', async () => {
    const feed = fakeFeed();
    const a = new BuildAdmission(feed, { minInFlight: 1, windowMs: 20, maxWaitMs: 300 });
    a.start();
    const stop = burnCpu();
    try {
      feed.emit('s1', 'create', { task: 'scheduling' });
      await sleep(150);
      const t = performance.now();
      await a.admit();
      const waited = performance.now() - t;
      assert.ok(waited >= 290 && waited < 2000, `waited ${waited} ms`);
    } finally {
      stop();
      a.stop();
    }
  });
});

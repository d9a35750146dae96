// The compute agent over a fake fleet: one reconciler per host, all started, converged and stopped together.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ComputeAgent } from '../../../src/agent/compute/agent.ts';
import { FakeDriver } from '../../../src/agent/compute/drivers/fake/fake-driver.ts';
import { FakeFleet } from '../../../src/agent/compute/drivers/fake/fake-fleet.ts';
import { MemoryControlPlane } from './memory-control-plane.ts';

describe('ComputeAgent', () => {
  it('runs a reconciler per fake host and builds every server on its own host', async () => {
    const fleet = await FakeFleet.open({ hosts: 20, delays: { create: 1 } });
    const cp = new MemoryControlPlane();
    const agent = new ComputeAgent(cp, fleet.drivers, { resyncMs: 3_600_000, heartbeatMs: 3_600_000 });
    await agent.start();
    assert.deepEqual(cp.registrations.map((r) => r.host).sort(), fleet.hostnames);
    const servers = fleet.hostnames.flatMap((h) => Array.from({ length: 10 }, () => cp.addServer(h)));
    await agent.idle();
    assert.ok(servers.every((s) => cp.get(s.id).vmState === 'active'));
    for (const h of fleet.hostnames) assert.equal(fleet.host(h)?.guestCount, 10, h);
    assert.equal(agent.stats().tasksRun, 200);
    await agent.stop();
    cp.addServer('fake-host-000');
    await new Promise((r) => setImmediate(r));
    assert.equal(fleet.host('fake-host-000')?.guestCount, 10, 'a stopped agent does nothing');
  });

  it('refuses two drivers for one host', () => {
    const cp = new MemoryControlPlane();
    assert.throws(
      () => new ComputeAgent(cp, [new FakeDriver({ hostname: 'a' }), new FakeDriver({ hostname: 'a' })]),
      /Two compute drivers claim host a/,
    );
  });

  it('maps drivers to host names when asked', async () => {
    const cp = new MemoryControlPlane();
    const driver = new FakeDriver({ hostname: 'node-1' });
    const agent = new ComputeAgent(cp, [driver], { hostOf: () => 'compute-a', resyncMs: 3_600_000 });
    await agent.start();
    assert.equal(cp.registrations[0]?.host, 'compute-a');
    assert.equal(cp.registrations[0]?.node, 'node-1');
    const s = cp.addServer('compute-a');
    await agent.idle();
    assert.equal(cp.get(s.id).vmState, 'active');
    assert.ok(agent.reconciler('compute-a'));
    await agent.stop();
  });
});

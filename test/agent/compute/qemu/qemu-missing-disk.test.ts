// A guest's root disk deleted behind the agent: start fails with QEMU's own reason (a DriverError the control plane
// turns into the server's fault), no QEMU is left running, and destroy still cleans up.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DriverError } from '../../../../src/agent/compute/hypervisor-driver.ts';
import { type DriverHarness, driverHarness, spec } from './driver-harness.ts';
import { qemuPidsOf } from './support.ts';

describe('QemuDriver with a root disk missing behind its back', () => {
  let h: DriverHarness;
  before(async () => {
    h = await driverHarness();
  });
  after(async () => {
    await h?.cleanup();
  });

  it('start fails with the reason, leaves no QEMU, and destroy removes the rest', async () => {
    const s = spec();
    await h.driver.create(s);
    const root = join(h.stateDir, 'guests', s.id, 'root.qcow2');
    assert.ok(existsSync(root));
    await rm(root);
    const err = await h.driver.start(s.id).catch((e: unknown) => e);
    assert.ok(err instanceof DriverError, String(err));
    assert.match(err.message, /root\.qcow2|No such file/);
    assert.equal(err.transient, false);
    assert.deepEqual(qemuPidsOf(s.id), []);
    assert.equal((await h.driver.findGuest(s.id))?.powerState, 'shutdown');
    await h.driver.destroy(s.id);
    assert.equal(await h.driver.findGuest(s.id), undefined);
    assert.equal(existsSync(join(h.stateDir, 'guests', s.id)), false);
  });
});

// How QMP run states map to the power states the driver reports (crashes included, which a blank guest cannot show).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { powerOfStatus } from '../../../../src/agent/compute/drivers/qemu/guest-machine.ts';

describe('powerOfStatus', () => {
  it('maps run states to power states', () => {
    assert.equal(powerOfStatus('running', false), 'running');
    for (const s of ['paused', 'postmigrate', 'finish-migrate', 'io-error', 'suspended', 'watchdog'])
      assert.equal(powerOfStatus(s, false), 'paused', s);
    assert.equal(
      powerOfStatus('guest-panicked', false),
      'crashed',
      'a pvpanic report (QEMU pauses the guest)',
    );
    assert.equal(powerOfStatus('internal-error', false), 'crashed', 'KVM internal errors pause, not exit');
    assert.equal(powerOfStatus('prelaunch', false), 'shutdown', 'a start that never reached cont');
    assert.equal(powerOfStatus('inmigrate', true), 'suspended', 'a restore in progress');
    assert.equal(powerOfStatus('inmigrate', false), 'paused');
  });
});

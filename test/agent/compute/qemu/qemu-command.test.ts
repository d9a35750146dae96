// The QEMU argv builder and the host probes (pure functions, no QEMU run).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hostTraits,
  parseCpuinfo,
  parseQemuVersion,
  resolveAccel,
} from '../../../../src/agent/compute/drivers/qemu/host-probe.ts';
import { type QemuLaunch, qemuArgv } from '../../../../src/agent/compute/drivers/qemu/qemu-command.ts';

const paths = {
  pidFile: '/s/g/pid',
  qmpSocket: '/s/g/qmp.sock',
  serialSocket: '/s/g/serial.sock',
  serialLog: '/s/g/serial.log',
  vncSocket: '/s/g/vnc.sock',
};

function launch(over: Partial<QemuLaunch> = {}): QemuLaunch {
  return { guestId: 'g1', accel: 'tcg', vcpus: 2, memoryMb: 256, paths, disks: [], nics: [], ...over };
}

/** The value following `flag` (every occurrence). */
function valuesOf(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] ?? ''] : []));
}

describe('qemuArgv', () => {
  it('names the guest, sizes it from the flavor and daemonizes it paused', () => {
    const argv = qemuArgv(launch());
    assert.deepEqual(valuesOf(argv, '-name'), ['guest=g1,debug-threads=on']);
    assert.deepEqual(valuesOf(argv, '-machine'), ['pc']);
    assert.deepEqual(valuesOf(argv, '-accel'), ['tcg,tb-size=64']);
    assert.deepEqual(valuesOf(argv, '-cpu'), [], 'TCG keeps the default model');
    assert.deepEqual(valuesOf(argv, '-m'), ['256']);
    assert.deepEqual(valuesOf(argv, '-smp'), ['2']);
    for (const flag of ['-nodefaults', '-no-user-config', '-daemonize', '-S'])
      assert.ok(argv.includes(flag), flag);
    assert.deepEqual(valuesOf(argv, '-pidfile'), ['/s/g/pid']);
    assert.deepEqual(valuesOf(argv, '-qmp'), ['unix:/s/g/qmp.sock,server=on,wait=off']);
    assert.match(
      valuesOf(argv, '-chardev')[0] ?? '',
      /^socket,id=serial0,path=\/s\/g\/serial.sock,.*logfile=\/s\/g\/serial.log/,
    );
    assert.deepEqual(valuesOf(argv, '-vnc'), ['unix:/s/g/vnc.sock']);
    assert.deepEqual(valuesOf(argv, '-display'), ['none']);
    assert.deepEqual(valuesOf(argv, '-incoming'), []);
    assert.deepEqual(valuesOf(argv, '-kernel'), []);
  });

  it('uses the host CPU without arch-capabilities under KVM', () => {
    const argv = qemuArgv(launch({ accel: 'kvm' }));
    assert.deepEqual(valuesOf(argv, '-accel'), ['kvm']);
    assert.deepEqual(valuesOf(argv, '-cpu'), ['host,-arch-capabilities']);
  });

  it('adds disks as virtio-blk with fixed slots, the config drive as an IDE CD-ROM, NICs without ROM', () => {
    const argv = qemuArgv(
      launch({
        disks: [
          {
            nodeName: 'blk-root',
            deviceId: 'disk-root',
            slot: 4,
            backend: { kind: 'file', path: '/s/g/root,1.qcow2', format: 'qcow2' },
            readOnly: false,
            bootIndex: 1,
          },
          {
            nodeName: 'blk5',
            deviceId: 'disk5',
            slot: 5,
            backend: { kind: 'nbd', export: 'vol', server: { type: 'unix', path: '/run/nbd.sock' } },
            readOnly: true,
            serial: 'abcdefghijklmnopqrstuvwxyz',
          },
        ],
        cdrom: '/s/g/config.iso',
        nics: [
          { netdevId: 'net6', deviceId: 'nic6', slot: 6, mac: 'fa:16:3e:00:00:01', tap: 'tap-1', mtu: 1450 },
          { netdevId: 'net7', deviceId: 'nic7', slot: 7, mac: 'fa:16:3e:00:00:02' },
        ],
      }),
    );
    const blockdevs = valuesOf(argv, '-blockdev').map((j) => JSON.parse(j));
    const devices = valuesOf(argv, '-device')
      .filter((d) => d.startsWith('{'))
      .map((j) => JSON.parse(j));
    assert.deepEqual(blockdevs[0], {
      driver: 'qcow2',
      'node-name': 'blk-root',
      'read-only': false,
      discard: 'unmap',
      file: { driver: 'file', filename: '/s/g/root,1.qcow2', 'read-only': false },
    });
    assert.deepEqual(blockdevs[1].server, { type: 'unix', path: '/run/nbd.sock' });
    assert.equal(blockdevs[1]['read-only'], true);
    assert.deepEqual(devices[0], {
      driver: 'virtio-blk-pci',
      id: 'disk-root',
      drive: 'blk-root',
      bus: 'pci.0',
      addr: '0x4',
      bootindex: 1,
    });
    assert.equal(devices[1].serial, 'abcdefghijklmnopqrst', 'serials are cut to 20 characters');
    assert.equal(blockdevs[2]['node-name'], 'blk-config');
    assert.equal(devices[2].driver, 'ide-cd');
    assert.deepEqual(valuesOf(argv, '-netdev'), [
      'tap,id=net6,ifname=tap-1,script=no,downscript=no,vhost=off',
    ]);
    assert.deepEqual(devices[3], {
      driver: 'virtio-net-pci',
      id: 'nic6',
      mac: 'fa:16:3e:00:00:01',
      romfile: '',
      bus: 'pci.0',
      addr: '0x6',
      netdev: 'net6',
      host_mtu: 1450,
    });
    assert.equal(devices[4].netdev, undefined, 'a NIC without a tap has no backend');
  });

  it('boots a kernel directly and restores from an inherited fd', () => {
    const argv = qemuArgv(
      launch({ kernel: { path: '/i/k', initrd: '/i/r', append: 'console=ttyS0 quiet' }, incomingFd: 3 }),
    );
    assert.deepEqual(valuesOf(argv, '-kernel'), ['/i/k']);
    assert.deepEqual(valuesOf(argv, '-initrd'), ['/i/r']);
    assert.deepEqual(valuesOf(argv, '-append'), ['console=ttyS0 quiet']);
    assert.deepEqual(valuesOf(argv, '-incoming'), ['fd:3']);
  });
});

describe('host probes', () => {
  const cpuinfo = [0, 1, 2, 3]
    .map(
      (n) =>
        `processor\t: ${n}\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nphysical id\t: 0\n` +
        `siblings\t: 4\ncpu cores\t: 2\nflags\t\t: fpu mmx sse sse2 pni avx2 svm arch_capabilities\n`,
    )
    .join('\n');

  it('parses QEMU versions the way Nova counts them', () => {
    assert.equal(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)'), 7_002_022);
    assert.equal(parseQemuVersion('QEMU emulator version 8.1.0'), 8_001_000);
  });

  it('reads the CPU topology and flags', () => {
    const cpu = parseCpuinfo(cpuinfo);
    assert.equal(cpu.vendor, 'AMD');
    assert.equal(cpu.model, 'AMD EPYC 7B13');
    assert.equal(cpu.sockets, 1);
    assert.equal(cpu.coresPerSocket, 2);
    assert.equal(cpu.threadsPerCore, 2);
    assert.ok(cpu.flags.has('svm'));
  });

  it('picks TCG when the CPU lacks vmx and svm, whatever /dev/kvm says', () => {
    const cpu = parseCpuinfo(cpuinfo.replaceAll(' svm', ''));
    assert.equal(resolveAccel('auto', cpu), 'tcg');
    assert.equal(resolveAccel('kvm', cpu), 'kvm', 'an explicit setting is obeyed');
  });

  it("reports traits for what the driver supports and the guest CPU's features", () => {
    const cpu = parseCpuinfo(cpuinfo);
    const tcg = hostTraits('tcg', cpu);
    assert.ok(tcg.includes('COMPUTE_NET_ATTACH_INTERFACE'));
    assert.ok(tcg.includes('COMPUTE_IMAGE_TYPE_QCOW2'));
    assert.ok(tcg.includes('HW_CPU_X86_SSE3'));
    assert.ok(!tcg.includes('HW_CPU_X86_AVX2'), 'qemu64 has no AVX2');
    assert.ok(!tcg.includes('COMPUTE_IMAGE_TYPE_ISO'), 'ISO images are refused');
    assert.ok(tcg.includes('HW_CPU_HYPERTHREADING'));
    const kvm = hostTraits('kvm', cpu);
    assert.ok(kvm.includes('HW_CPU_X86_AVX2'));
    assert.ok(kvm.includes('HW_CPU_X86_AMD_SVM'));
  });
});

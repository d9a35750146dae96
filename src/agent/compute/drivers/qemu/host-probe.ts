// What the host offers QEMU guests: accelerator, QEMU version, CPU description, capacity and os-traits.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, machine, totalmem } from 'node:os';
import type { HostInventory } from '../../hypervisor-driver.ts';
import { QEMU_BINARY } from './qemu-process.ts';

export type AccelSetting = 'auto' | 'kvm' | 'tcg';

/** Parsed /proc/cpuinfo: the first processor's identity, every flag, and the topology. */
export interface HostCpu {
  vendor: string;
  model: string;
  flags: Set<string>;
  sockets: number;
  coresPerSocket: number;
  threadsPerCore: number;
}

export function parseCpuinfo(text: string): HostCpu {
  const blocks = text.split(/\n\s*\n/).filter((b) => b.trim());
  const field = (block: string, name: string) => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(block);
    return m?.[1]?.trim();
  };
  const first = blocks[0] ?? '';
  const physIds = new Set(blocks.map((b) => field(b, 'physical id') ?? '0'));
  const cores = Number(field(first, 'cpu cores') ?? '') || Math.max(1, blocks.length / physIds.size);
  const siblings = Number(field(first, 'siblings') ?? '') || cores;
  const vendorId = field(first, 'vendor_id') ?? '';
  const vendor = vendorId === 'AuthenticAMD' ? 'AMD' : vendorId === 'GenuineIntel' ? 'Intel' : vendorId;
  return {
    vendor,
    model: field(first, 'model name') ?? 'unknown',
    flags: new Set((field(first, 'flags') ?? '').split(/\s+/).filter(Boolean)),
    sockets: physIds.size || 1,
    coresPerSocket: cores,
    threadsPerCore: Math.max(1, Math.round(siblings / cores)),
  };
}

export function readHostCpu(): HostCpu {
  try {
    return parseCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return {
      vendor: 'unknown',
      model: 'unknown',
      flags: new Set(),
      sockets: 1,
      coresPerSocket: 1,
      threadsPerCore: 1,
    };
  }
}

/**
 * `auto` picks KVM only where it really works: the CPU has hardware virtualisation (vmx/svm) and /dev/kvm opens.
 * (A /dev/kvm without vmx/svm, such as kvm_pvm's software nesting, does not boot stock guests.)
 */
export function resolveAccel(setting: AccelSetting, cpu: HostCpu = readHostCpu()): 'kvm' | 'tcg' {
  if (setting !== 'auto') return setting;
  if (!cpu.flags.has('vmx') && !cpu.flags.has('svm')) return 'tcg';
  try {
    closeSync(openSync('/dev/kvm', constants.O_RDWR));
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

/** Nova's integer version (major*1e6 + minor*1e3 + micro) of `qemu-system-x86_64 --version`. */
export function parseQemuVersion(text: string): number {
  const m = /version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return 0;
  return Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3] ?? 0);
}

export function probeQemuVersion(binary = QEMU_BINARY): number {
  try {
    return parseQemuVersion(execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }));
  } catch {
    return 0;
  }
}

/** Nova's cpu_info: arch, model, vendor, topology and features of the host. */
export function cpuInfoOf(cpu: HostCpu): Record<string, unknown> {
  return {
    arch: machine(),
    model: cpu.model,
    vendor: cpu.vendor,
    topology: { cells: 1, sockets: cpu.sockets, cores: cpu.coresPerSocket, threads: cpu.threadsPerCore },
    features: [...cpu.flags].sort(),
  };
}

/** /proc/cpuinfo flag → os-traits CPU trait, the subset Nova's libvirt driver maps (cpuinfo spellings). */
const CPU_FLAG_TRAITS: Record<string, string[]> = {
  '3dnow': ['HW_CPU_X86_3DNOW'],
  abm: ['HW_CPU_X86_ABM'],
  aes: ['HW_CPU_X86_AESNI'],
  avx: ['HW_CPU_X86_AVX'],
  avx2: ['HW_CPU_X86_AVX2'],
  avx512bw: ['HW_CPU_X86_AVX512BW'],
  avx512cd: ['HW_CPU_X86_AVX512CD'],
  avx512dq: ['HW_CPU_X86_AVX512DQ'],
  avx512er: ['HW_CPU_X86_AVX512ER'],
  avx512f: ['HW_CPU_X86_AVX512F'],
  avx512pf: ['HW_CPU_X86_AVX512PF'],
  avx512vl: ['HW_CPU_X86_AVX512VL'],
  avx512_vnni: ['HW_CPU_X86_AVX512VNNI'],
  avx512vbmi: ['HW_CPU_X86_AVX512VBMI'],
  avx512ifma: ['HW_CPU_X86_AVX512IFMA'],
  avx512_vbmi2: ['HW_CPU_X86_AVX512VBMI2'],
  avx512_bitalg: ['HW_CPU_X86_AVX512BITALG'],
  vaes: ['HW_CPU_X86_AVX512VAES'],
  gfni: ['HW_CPU_X86_AVX512GFNI'],
  vpclmulqdq: ['HW_CPU_X86_AVX512VPCLMULQDQ'],
  avx512_vpopcntdq: ['HW_CPU_X86_AVX512VPOPCNTDQ'],
  bmi1: ['HW_CPU_X86_BMI'],
  bmi2: ['HW_CPU_X86_BMI2'],
  pclmulqdq: ['HW_CPU_X86_CLMUL'],
  f16c: ['HW_CPU_X86_F16C'],
  fma: ['HW_CPU_X86_FMA3'],
  fma4: ['HW_CPU_X86_FMA4'],
  mmx: ['HW_CPU_X86_MMX'],
  mpx: ['HW_CPU_X86_MPX'],
  sha_ni: ['HW_CPU_X86_SHA'],
  sse: ['HW_CPU_X86_SSE'],
  sse2: ['HW_CPU_X86_SSE2'],
  pni: ['HW_CPU_X86_SSE3'],
  sse4_1: ['HW_CPU_X86_SSE41'],
  sse4_2: ['HW_CPU_X86_SSE42'],
  sse4a: ['HW_CPU_X86_SSE4A'],
  ssse3: ['HW_CPU_X86_SSSE3'],
  svm: ['HW_CPU_X86_SVM', 'HW_CPU_X86_AMD_SVM'],
  tbm: ['HW_CPU_X86_TBM'],
  vmx: ['HW_CPU_X86_VMX', 'HW_CPU_X86_INTEL_VMX'],
  xop: ['HW_CPU_X86_XOP'],
};

/** Features of QEMU's default TCG model (qemu64) that map to traits. */
const QEMU64_FLAGS = ['mmx', 'sse', 'sse2', 'pni'];

/**
 * The os-traits this driver honestly supports, after the capability traits Nova's libvirt driver reports: NIC
 * hot-plug, the image types the cache accepts, virtio disks and NICs, the VGA model, and the guest CPU's
 * features (the host's under KVM's host passthrough, qemu64's under TCG).
 */
export function hostTraits(accel: 'kvm' | 'tcg', cpu: HostCpu): string[] {
  const traits = new Set([
    'COMPUTE_NET_ATTACH_INTERFACE',
    'COMPUTE_IMAGE_TYPE_AKI',
    'COMPUTE_IMAGE_TYPE_ARI',
    'COMPUTE_IMAGE_TYPE_AMI',
    'COMPUTE_IMAGE_TYPE_RAW',
    'COMPUTE_IMAGE_TYPE_QCOW2',
    'COMPUTE_STORAGE_BUS_VIRTIO',
    'COMPUTE_NET_VIF_MODEL_VIRTIO',
    'COMPUTE_GRAPHICS_MODEL_VGA',
  ]);
  const flags = accel === 'kvm' ? [...cpu.flags].filter((f) => f !== 'arch_capabilities') : QEMU64_FLAGS;
  for (const f of flags) for (const t of CPU_FLAG_TRAITS[f] ?? []) traits.add(t);
  if (cpu.threadsPerCore > 1) traits.add('HW_CPU_HYPERTHREADING');
  return [...traits].sort();
}

/** Real capacity: host CPUs, memory, and the size of the filesystem holding the state directory. */
export async function hostInventory(stateDir: string, traits: string[]): Promise<HostInventory> {
  const fs = await statfs(stateDir);
  return {
    vcpus: Math.max(1, cpus().length),
    memoryMb: Math.floor(totalmem() / (1024 * 1024)),
    diskGb: Math.max(1, Math.floor((fs.blocks * fs.bsize) / 1024 ** 3)),
    traits: [...traits],
  };
}

// Disk image format inspection while the bytes stream past (Glance's format_inspector, ported): each inspector
// captures only the byte regions it needs (qcow2's header, vmdk's descriptor, vhdx's region and metadata
// tables) and reports whether the data matches its format and the virtual size it declares. Nothing here reads
// files or holds more than a few hundred KiB.
import { Transform, type TransformCallback } from 'node:stream';

export class ImageFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFormatError';
  }
}

/** A region of the stream to capture, possibly spread over many unaligned chunks. */
class CaptureRegion {
  readonly offset: number;
  length: number;
  #parts: Buffer[] = [];
  #have = 0;
  #data: Buffer | undefined;

  constructor(offset: number, length: number) {
    this.offset = offset;
    this.length = length;
  }

  get complete(): boolean {
    return this.#have >= this.length;
  }

  get captured(): number {
    return Math.min(this.#have, this.length);
  }

  get data(): Buffer {
    if (!this.#data || this.#data.length !== this.captured) {
      this.#data = Buffer.concat(this.#parts).subarray(0, this.length);
      this.#parts = [this.#data];
    }
    return this.#data;
  }

  /** `position` is the stream offset just after `chunk`. */
  capture(chunk: Buffer, position: number): void {
    if (this.complete) return;
    const readStart = position - chunk.length;
    const want = this.offset + this.#have; // the next byte this region needs
    if (want < readStart || want >= position) return;
    const piece = chunk.subarray(want - readStart, want - readStart + (this.length - this.#have));
    this.#parts.push(Buffer.from(piece));
    this.#have += piece.length;
  }
}

/** A stream-fed inspector; the base class is raw (every stream matches; virtual size = byte count). */
export class FormatInspector {
  readonly name: string = 'raw';
  protected total = 0;
  readonly #regions = new Map<string, CaptureRegion>();

  /** Presents the next chunk of the stream. */
  eat(chunk: Buffer): void {
    this.total += chunk.length;
    for (const r of this.#regions.values()) r.capture(chunk, this.total);
    // Post-processing may define new regions that start inside this very chunk (a vmdk descriptor right after
    // its header); let them see it too, and repeat while that uncovers more. Capturing is idempotent.
    for (let round = 0; round < 4; round++) {
      const before = this.#regions.size;
      this.postProcess();
      if (this.#regions.size === before) break;
      for (const r of this.#regions.values()) r.capture(chunk, this.total);
    }
  }

  protected postProcess(): void {}

  protected newRegion(name: string, offset: number, length: number): void {
    if (this.#regions.has(name)) throw new ImageFormatError(`Inspector re-added region ${name}`);
    this.#regions.set(name, new CaptureRegion(offset, length));
  }

  protected hasRegion(name: string): boolean {
    return this.#regions.has(name);
  }

  protected region(name: string): CaptureRegion {
    const r = this.#regions.get(name);
    if (!r) throw new ImageFormatError(`no region ${name}`);
    return r;
  }

  /** True when the bytes look like this format. */
  get formatMatch(): boolean {
    return true;
  }

  /** The declared virtual size in bytes, or 0 when unknown. */
  get virtualSize(): number {
    return this.total;
  }

  get actualSize(): number {
    return this.total;
  }

  /** True once every region it wants has been captured. */
  get complete(): boolean {
    for (const r of this.#regions.values()) if (!r.complete) return false;
    return true;
  }
}

/** Reads an unsigned 64-bit integer as a number (exact below 2^53, which covers any real disk). */
function u64(buf: Buffer, offset: number, le: boolean): number {
  return Number(le ? buf.readBigUInt64LE(offset) : buf.readBigUInt64BE(offset));
}

// qcow2: big-endian header; magic 'QFI\xfb' at 0, size (u64) at 24.
export class QcowInspector extends FormatInspector {
  override readonly name = 'qcow2';
  constructor() {
    super();
    this.newRegion('header', 0, 512);
  }
  override get formatMatch(): boolean {
    const h = this.region('header');
    return h.complete && h.data.subarray(0, 4).equals(QCOW_MAGIC);
  }
  override get virtualSize(): number {
    return this.formatMatch ? u64(this.region('header').data, 24, false) : 0;
  }
}
const QCOW_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

// QED: detected only (Glance reports its byte count as the virtual size and treats it as unsafe).
export class QedInspector extends FormatInspector {
  override readonly name = 'qed';
  constructor() {
    super();
    this.newRegion('header', 0, 512);
  }
  override get formatMatch(): boolean {
    const h = this.region('header');
    return h.complete && h.data.subarray(0, 4).equals(Buffer.from('QED\0', 'latin1'));
  }
}

// VHD (vpc): a 512-byte big-endian footer copy at the start; 'conectix' at 0, original size (u64) at 40.
export class VhdInspector extends FormatInspector {
  override readonly name = 'vhd';
  constructor() {
    super();
    this.newRegion('header', 0, 512);
  }
  override get formatMatch(): boolean {
    return this.region('header').data.subarray(0, 8).toString('latin1') === 'conectix';
  }
  override get virtualSize(): number {
    const h = this.region('header');
    if (!h.complete || !this.formatMatch) return 0;
    return u64(h.data, 40, false);
  }
}

// VHDX: identity 'vhdxfile' at 0; region table at 192 KiB leads to the metadata region, whose table leads to
// the Virtual Disk Size item (little-endian u64).
const VHDX_METAREGION = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
const VHDX_VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
const VHDX_METADATA_TABLE_MAX_SIZE = 32 * 2048;

function msGuid(b: Buffer): string {
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  const tail = [...b.subarray(8, 16)].map((x) => hex(x, 2));
  return `${hex(b.readUInt32LE(0), 8)}-${hex(b.readUInt16LE(4), 4)}-${hex(b.readUInt16LE(6), 4)}-${tail.slice(0, 2).join('')}-${tail.slice(2).join('')}`;
}

export class VhdxInspector extends FormatInspector {
  override readonly name = 'vhdx';
  constructor() {
    super();
    this.newRegion('ident', 0, 32);
    this.newRegion('header', 192 * 1024, 64 * 1024);
  }
  protected override postProcess(): void {
    if (this.region('header').complete && !this.hasRegion('metadata')) {
      const found = this.#findMetaRegion();
      if (found) this.newRegion('metadata', found.offset, found.length);
    } else if (this.hasRegion('metadata') && !this.hasRegion('vds')) {
      const found = this.#findMetaEntry(VHDX_VIRTUAL_DISK_SIZE);
      if (found) this.newRegion('vds', found.offset, found.length);
    }
  }
  #findMetaRegion(): { offset: number; length: number } | undefined {
    const h = this.region('header').data;
    const regi = h.readUInt32LE(0);
    const count = h.readUInt32LE(8);
    if (regi !== 0x69676572)
      throw new ImageFormatError(`Region signature not found at ${(192 * 1024).toString(16)}`);
    if (count >= 2048) throw new ImageFormatError(`Region count is ${count} (limit 2047)`);
    for (let i = 0; i < count; i++) {
      const start = 16 + i * 32;
      const entry = h.subarray(start, start + 32);
      if (entry.length < 32) break;
      if (msGuid(entry.subarray(0, 16)) === VHDX_METAREGION) {
        return { offset: u64(entry, 16, true), length: 2048 * 32 };
      }
    }
    return undefined;
  }
  #findMetaEntry(guid: string): { offset: number; length: number } | undefined {
    const meta = this.region('metadata');
    const buf = meta.data;
    if (buf.length < 32) return undefined;
    if (buf.subarray(0, 8).toString('latin1') !== 'metadata') {
      throw new ImageFormatError('Invalid signature for metadata region');
    }
    const count = buf.readUInt16LE(10);
    if (buf.length < 32 + count * 32) return undefined;
    if (count >= 2048) throw new ImageFormatError(`Metadata item count is ${count} (limit 2047)`);
    for (let i = 0; i < count; i++) {
      const at = 32 + i * 32;
      if (msGuid(buf.subarray(at, at + 16)) === guid) {
        const itemOffset = buf.readUInt32LE(at + 16);
        const itemLength = Math.min(buf.readUInt32LE(at + 20), VHDX_METADATA_TABLE_MAX_SIZE);
        meta.length = buf.length; // stop capturing the metadata region
        return { offset: meta.offset + itemOffset, length: itemLength };
      }
    }
    return undefined;
  }
  override get formatMatch(): boolean {
    return this.region('ident').data.subarray(0, 8).toString('latin1') === 'vhdxfile';
  }
  override get virtualSize(): number {
    if (!this.hasRegion('vds') || !this.region('vds').complete) return 0;
    const d = this.region('vds').data;
    return d.length >= 8 ? u64(d, 0, true) : 0;
  }
}

// VMDK (monolithicSparse / streamOptimized): packed little-endian 'KDMV' header (capacity in sectors at 12,
// descriptor offset and size in sectors at 28 and 36, grain directory offset at 56), then a text descriptor.
export class VmdkInspector extends FormatInspector {
  override readonly name = 'vmdk';
  static readonly DESC_OFFSET = 0x200;
  static readonly DESC_MAX_SIZE = (1 << 20) - 1;
  constructor() {
    super();
    this.newRegion('header', 0, 512);
  }
  protected override postProcess(): void {
    const h = this.region('header');
    if (!h.complete) return;
    const d = h.data;
    if (d.subarray(0, 4).toString('latin1') !== 'KDMV')
      throw new ImageFormatError('Signature KDMV not found');
    const ver = d.readUInt32LE(4);
    if (ver < 1 || ver > 3) throw new ImageFormatError(`Unsupported format version ${ver}`);
    if (d.readBigUInt64LE(56) === 0xffffffffffffffffn) throw new ImageFormatError('Unsupported VMDK footer');
    const descOffset = u64(d, 28, true) * 512;
    const descSize = Math.min(u64(d, 36, true) * 512, VmdkInspector.DESC_MAX_SIZE);
    if (descOffset !== VmdkInspector.DESC_OFFSET) throw new ImageFormatError('Wrong descriptor location');
    if (!this.hasRegion('descriptor')) this.newRegion('descriptor', descOffset, descSize);
  }
  override get formatMatch(): boolean {
    return this.region('header').data.subarray(0, 4).toString('latin1') === 'KDMV';
  }
  override get virtualSize(): number {
    if (!this.hasRegion('descriptor') || !this.region('descriptor').complete) return 0;
    const desc = this.region('descriptor').data;
    const marker = Buffer.from('createType="', 'latin1');
    const at = desc.indexOf(marker);
    if (at < 0) return 0;
    const start = at + marker.length;
    const end = desc.indexOf(0x22, start);
    const type = end > start && end - start < 64 ? desc.subarray(start, end).toString('latin1') : '';
    if (type !== 'monolithicSparse' && type !== 'streamOptimized') return 0;
    return u64(this.region('header').data, 12, true) * 512;
  }
}

// VDI (VirtualBox): magic 0xbeda107f at 0x40, size (u64 LE) at 0x170.
export class VdiInspector extends FormatInspector {
  override readonly name = 'vdi';
  constructor() {
    super();
    this.newRegion('header', 0, 512);
  }
  override get formatMatch(): boolean {
    const h = this.region('header');
    return h.complete && h.data.readUInt32LE(0x40) === 0xbeda107f;
  }
  override get virtualSize(): number {
    return this.formatMatch ? u64(this.region('header').data, 0x170, true) : 0;
  }
}

const INSPECTORS: Readonly<Record<string, () => FormatInspector>> = {
  raw: () => new FormatInspector(),
  qcow2: () => new QcowInspector(),
  vhd: () => new VhdInspector(),
  vhdx: () => new VhdxInspector(),
  vmdk: () => new VmdkInspector(),
  vdi: () => new VdiInspector(),
  qed: () => new QedInspector(),
};

/** The inspector for a disk_format, or undefined when Glance has none (iso, ami, aki, ari, ploop). */
export function inspectorFor(diskFormat: string | null | undefined): FormatInspector | undefined {
  const make = diskFormat ? INSPECTORS[diskFormat] : undefined;
  return make?.();
}

/**
 * Watches a stream with an inspector and passes every byte through unchanged. An inspector that fails (a
 * malformed header) is dropped, never the stream: the result then reports nothing.
 */
export class InspectingStream extends Transform {
  readonly #inspector: FormatInspector;
  #failed = false;

  constructor(inspector: FormatInspector) {
    super({ highWaterMark: 1 << 20 });
    this.#inspector = inspector;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.#failed) {
      try {
        this.#inspector.eat(chunk);
      } catch {
        this.#failed = true;
      }
    }
    cb(null, chunk);
  }

  /** The virtual size to record, as Glance does: only when the format matched and declared a size. */
  virtualSize(): number | null {
    if (this.#failed) return null;
    try {
      const i = this.#inspector;
      return i.formatMatch && i.virtualSize > 0 ? i.virtualSize : null;
    } catch {
      return null;
    }
  }
}

/**
 * Glance inspects in flight only when the image has no virtual size yet and its container format is bare;
 * returns the inspector to use, or undefined.
 */
export function uploadInspector(image: {
  disk_format: string | null;
  container_format: string | null;
  virtual_size: number | null;
}): FormatInspector | undefined {
  if (image.virtual_size) return undefined;
  if (image.container_format !== 'bare') return undefined;
  return inspectorFor(image.disk_format);
}

/** Convenience for a buffer already in hand (the first bytes of a file). */
export function inspectBuffer(
  diskFormat: string,
  bytes: Buffer,
): { formatMatch: boolean; virtualSize: number } | undefined {
  const i = inspectorFor(diskFormat);
  if (!i) return undefined;
  i.eat(bytes);
  return { formatMatch: i.formatMatch, virtualSize: i.formatMatch ? i.virtualSize : 0 };
}

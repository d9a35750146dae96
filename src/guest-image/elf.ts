// Reads the few things the image build needs from x86-64 ELF files: a module's .modinfo, a binary's interpreter
// and DT_NEEDED libraries (64-bit little-endian only, which is all the amd64 packages contain).

interface Section {
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
}

const SHT_DYNAMIC = 6;
const DT_NEEDED = 1n;
const PT_INTERP = 3;

function assertElf64(buf: Buffer): void {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('only 64-bit little-endian ELF files are supported');
}

function sections(buf: Buffer): Section[] {
  assertElf64(buf);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (shoff === 0 || shnum === 0) return [];
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    raw.push({
      nameOff: buf.readUInt32LE(at),
      type: buf.readUInt32LE(at + 4),
      offset: Number(buf.readBigUInt64LE(at + 0x18)),
      size: Number(buf.readBigUInt64LE(at + 0x20)),
      link: buf.readUInt32LE(at + 0x28),
    });
  }
  const strtab = raw[shstrndx];
  return raw.map((s) => ({
    name: strtab ? cString(buf, strtab.offset + s.nameOff) : '',
    type: s.type,
    offset: s.offset,
    size: s.size,
    link: s.link,
  }));
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

/** A kernel module's .modinfo entries (key → values; `alias` and others may repeat). */
export function readModinfo(buf: Buffer): Map<string, string[]> {
  const info = new Map<string, string[]>();
  const sec = sections(buf).find((s) => s.name === '.modinfo');
  if (!sec) throw new Error('no .modinfo section (not a kernel module?)');
  for (const entry of buf.toString('latin1', sec.offset, sec.offset + sec.size).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    const list = info.get(key) ?? [];
    list.push(entry.slice(eq + 1));
    info.set(key, list);
  }
  return info;
}

/** The program interpreter (PT_INTERP) and the DT_NEEDED sonames of a dynamically linked ELF file. */
export function readDynamic(buf: Buffer): { interpreter?: string; needed: string[] } {
  const secs = sections(buf);
  const needed: string[] = [];
  const dyn = secs.find((s) => s.type === SHT_DYNAMIC);
  if (dyn) {
    const strtab = secs[dyn.link];
    if (!strtab) throw new Error('.dynamic has no string table');
    for (let at = dyn.offset; at + 16 <= dyn.offset + dyn.size; at += 16) {
      const tag = buf.readBigInt64LE(at);
      if (tag === 0n) break;
      if (tag === DT_NEEDED) needed.push(cString(buf, strtab.offset + Number(buf.readBigUInt64LE(at + 8))));
    }
  }
  let interpreter: string | undefined;
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (buf.readUInt32LE(at) !== PT_INTERP) continue;
    interpreter = cString(buf, Number(buf.readBigUInt64LE(at + 8)));
  }
  return interpreter ? { interpreter, needed } : { needed };
}

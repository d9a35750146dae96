// Decodes subunit v2 byte streams (what `tempest run --subunit` writes) into packets and per-test outcomes.
//
// Wire format, as python-subunit's subunit/v2.py writes it: 0xB3, 16-bit flags, a 1-4 byte
// length covering the whole packet, optional fields in a fixed order (timestamp, test id, tags,
// mime type, file content, route code), then a CRC32 of everything before it.

export type SubunitStatus = 'exists' | 'inprogress' | 'success' | 'uxsuccess' | 'skip' | 'fail' | 'xfail';

export interface SubunitPacket {
  testId?: string;
  status?: SubunitStatus;
  tags?: string[];
  /** Milliseconds since the epoch. */
  timestamp?: number;
  mimeType?: string;
  fileName?: string;
  fileBytes?: Uint8Array;
  eof: boolean;
  runnable: boolean;
  routeCode?: string;
}

/** What one test id ended with, with its attachments (traceback, reason…) joined per file name. */
export interface TestOutcome {
  id: string;
  /** The last status seen; `exists` only means enumerated, `inprogress` means started and never finished. */
  status: SubunitStatus;
  startedAt?: number;
  stoppedAt?: number;
  attachments: Record<string, string>;
  tags: string[];
}

const SIGNATURE = 0xb3;
const FLAG_TEST_ID = 0x0800;
const FLAG_ROUTE_CODE = 0x0400;
const FLAG_TIMESTAMP = 0x0200;
const FLAG_RUNNABLE = 0x0100;
const FLAG_TAGS = 0x0080;
const FLAG_FILE_CONTENT = 0x0040;
const FLAG_MIME_TYPE = 0x0020;
const FLAG_EOF = 0x0010;
const STATUSES: readonly (SubunitStatus | undefined)[] = [
  undefined,
  'exists',
  'inprogress',
  'success',
  'uxsuccess',
  'skip',
  'fail',
  'xfail',
];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Error('field extends past end of packet');
    return this.bytes[this.pos++]!;
  }
  number(): number {
    const first = this.byte();
    const kind = first & 0xc0;
    let value = first & 0x3f;
    const extra = kind === 0 ? 0 : kind === 0x40 ? 1 : kind === 0x80 ? 2 : 3;
    for (let i = 0; i < extra; i++) value = value * 256 + this.byte();
    return value;
  }
  uint32(): number {
    return this.byte() * 0x1000000 + ((this.byte() << 16) | (this.byte() << 8) | this.byte());
  }
  take(length: number): Uint8Array {
    if (this.pos + length > this.end) throw new Error('field extends past end of packet');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  utf8(): string {
    return new TextDecoder().decode(this.take(this.number()));
  }
}

/** Reads the packet length from the varint right after the 3-byte header, or undefined if not yet buffered. */
function packetLength(buf: Uint8Array, at: number): number | undefined {
  if (buf.length < at + 4) return undefined;
  const first = buf[at + 3]!;
  const kind = first & 0xc0;
  const size = kind === 0 ? 1 : kind === 0x40 ? 2 : kind === 0x80 ? 3 : 4;
  if (buf.length < at + 3 + size) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + buf[at + 3 + i]!;
  return value;
}

function decodePacket(buf: Uint8Array, start: number, length: number): SubunitPacket {
  const stored = new DataView(buf.buffer, buf.byteOffset + start + length - 4, 4).getUint32(0);
  if (crc32(buf.subarray(start, start + length - 4)) !== stored) throw new Error('bad checksum');
  const flags = (buf[start + 1]! << 8) | buf[start + 2]!;
  if (flags >> 12 !== 0x2) throw new Error(`unsupported subunit version ${flags >> 12}`);
  const r = new Reader(buf, start + 3, start + length - 4);
  r.number(); // the length, already known
  const packet: SubunitPacket = {
    eof: (flags & FLAG_EOF) !== 0,
    runnable: (flags & FLAG_RUNNABLE) !== 0,
  };
  const status = STATUSES[flags & 0x7];
  if (status) packet.status = status;
  if (flags & FLAG_TIMESTAMP) {
    const seconds = r.uint32();
    const nanos = r.number();
    packet.timestamp = seconds * 1000 + nanos / 1e6;
  }
  if (flags & FLAG_TEST_ID) packet.testId = r.utf8();
  if (flags & FLAG_TAGS) {
    const count = r.number();
    packet.tags = [];
    for (let i = 0; i < count; i++) packet.tags.push(r.utf8());
  }
  if (flags & FLAG_MIME_TYPE) packet.mimeType = r.utf8();
  if (flags & FLAG_FILE_CONTENT) {
    packet.fileName = r.utf8();
    packet.fileBytes = r.take(r.number());
  }
  if (flags & FLAG_ROUTE_CODE) packet.routeCode = r.utf8();
  return packet;
}

/**
 * Incremental decoder: feed chunks as they arrive, get complete packets back.
 * Bytes outside packets (a worker's stray prints) are collected in `nonSubunit`;
 * corrupt packets are skipped and noted in `errors`.
 */
export class SubunitDecoder {
  #buf: Uint8Array = new Uint8Array(0);
  readonly errors: string[] = [];
  nonSubunit = '';

  push(chunk: Uint8Array): SubunitPacket[] {
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf, 0);
    joined.set(chunk, this.#buf.length);
    const packets: SubunitPacket[] = [];
    let pos = 0;
    const stray: number[] = [];
    while (pos < joined.length) {
      if (joined[pos] !== SIGNATURE) {
        stray.push(joined[pos]!);
        pos++;
        continue;
      }
      const length = packetLength(joined, pos);
      if (length === undefined || pos + length > joined.length) break;
      if (length < 8) {
        this.errors.push(`packet at byte ${pos}: impossible length ${length}`);
        stray.push(joined[pos]!);
        pos++;
        continue;
      }
      try {
        packets.push(decodePacket(joined, pos, length));
        pos += length;
      } catch (err) {
        this.errors.push(`packet at byte ${pos}: ${(err as Error).message}`);
        stray.push(joined[pos]!);
        pos++;
      }
    }
    if (stray.length) this.nonSubunit += new TextDecoder().decode(Uint8Array.from(stray));
    this.#buf = joined.slice(pos);
    return packets;
  }

  /**
   * Ends the stream: a buffered tail that never became a whole packet (a stray 0xB3 byte,
   * or a torn last packet) is re-read byte by byte so no packet after it is lost.
   */
  end(): SubunitPacket[] {
    const packets: SubunitPacket[] = [];
    while (this.#buf.length) {
      const rest = this.#buf.subarray(1);
      this.nonSubunit += String.fromCharCode(this.#buf[0]!);
      if (!this.errors.includes('stream ends inside a packet'))
        this.errors.push('stream ends inside a packet');
      this.#buf = new Uint8Array(0);
      packets.push(...this.push(rest));
    }
    return packets;
  }
}

/** Decodes a whole stream at once. */
export function parseSubunitV2(bytes: Uint8Array): {
  packets: SubunitPacket[];
  errors: string[];
  nonSubunit: string;
} {
  const decoder = new SubunitDecoder();
  const packets = [...decoder.push(bytes), ...decoder.end()];
  return { packets, errors: decoder.errors, nonSubunit: decoder.nonSubunit };
}

/** Folds packets into one outcome per test id, keeping the latest status and joining attachment chunks. */
export class OutcomeCollector {
  readonly outcomes = new Map<string, TestOutcome>();

  add(packet: SubunitPacket): TestOutcome | undefined {
    if (packet.testId === undefined) return undefined;
    let outcome = this.outcomes.get(packet.testId);
    if (!outcome) {
      outcome = { id: packet.testId, status: 'exists', attachments: {}, tags: [] };
      this.outcomes.set(packet.testId, outcome);
    }
    for (const tag of packet.tags ?? []) if (!outcome.tags.includes(tag)) outcome.tags.push(tag);
    if (packet.fileName !== undefined && packet.fileBytes) {
      outcome.attachments[packet.fileName] =
        (outcome.attachments[packet.fileName] ?? '') + new TextDecoder().decode(packet.fileBytes);
    }
    if (packet.status && !(packet.status === 'exists' && outcome.status !== 'exists')) {
      outcome.status = packet.status;
      if (packet.status === 'inprogress') outcome.startedAt = packet.timestamp;
      else if (packet.status !== 'exists') {
        outcome.stoppedAt = packet.timestamp;
        outcome.startedAt ??= packet.timestamp;
      }
    }
    return outcome;
  }
}

/** One outcome per test id from a whole stream. */
export function collectOutcomes(packets: Iterable<SubunitPacket>): Map<string, TestOutcome> {
  const collector = new OutcomeCollector();
  for (const packet of packets) collector.add(packet);
  return collector.outcomes;
}

/** True for statuses that end a test (anything but `exists` and `inprogress`). */
export function isFinal(status: SubunitStatus): boolean {
  return status !== 'exists' && status !== 'inprogress';
}

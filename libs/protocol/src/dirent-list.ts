/**
 * A directory listing kept as encoded 9P2000.L dirents: built once, then any Rreaddir is a view
 * of whole entries of it (no per-reply encoding, no per-entry objects).
 */
import { QID_SIZE } from './constants.js';
import { DIRENT_HEAD, putDirent } from './dir.js';
import type { Dirent, Qid } from './fcall.js';
import { Reader, grown, putQid } from './wire.js';

/**
 * Dirents encoded back to back, with the byte offset of each. Entries are appended (`push`,
 * `pushParts`); an entry's qid and type can be rewritten in place (`setQid`), which keeps its
 * size. Views handed out by `bytes` share the memory: rewrite only entries not yet handed out.
 */
export class DirentList {
  private buf: Buffer;
  /** Little-endian stores into `buf` (one store per field). */
  private view: DataView;
  private pos = 0;
  /** starts[i]: where entry i begins; starts[length]: the end of the last. */
  private starts: Uint32Array;
  private n = 0;

  /** Room for `bytes` bytes and `entries` entries to start with (both grow as needed). */
  constructor(bytes = 4096, entries = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(bytes, 64));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.starts = new Uint32Array(Math.max(entries, 4) + 1);
  }

  /** Entries held. */
  get length(): number {
    return this.n;
  }

  /** Bytes of all the entries. */
  get byteLength(): number {
    return this.pos;
  }

  /** Appends `e` (the same bytes as `writeDirent`). */
  push(e: Dirent): void {
    this.room(DIRENT_HEAD + 3 * e.name.length);
    this.pos = putDirent(this.buf, this.pos, e);
    this.starts[++this.n] = this.pos;
  }

  /**
   * Appends an entry given as parts: qid (type, version, path as its low and high 32 bits),
   * cookie (an integer below 2^32), DT_* type, and the name as the UTF-8 bytes
   * `names[from, to)` (at most 65535 of them, not checked for validity).
   */
  pushParts(
    qidType: number, qidVersion: number, pathLo: number, pathHi: number, cookie: number, type: number,
    names: Uint8Array, from: number, to: number,
  ): void {
    const len = to - from;
    this.room(DIRENT_HEAD + len);
    const b = this.buf;
    const v = this.view;
    const at = this.pos;
    b[at] = qidType;
    v.setUint32(at + 1, qidVersion, true);
    v.setUint32(at + 5, pathLo, true);
    v.setUint32(at + 9, pathHi, true);
    v.setUint32(at + QID_SIZE, cookie, true);
    v.setUint32(at + QID_SIZE + 4, 0, true);
    b[at + QID_SIZE + 8] = type;
    v.setUint16(at + QID_SIZE + 9, len, true);
    const p = at + DIRENT_HEAD;
    if (len <= 32) for (let i = 0; i < len; i++) b[p + i] = names[from + i]!;
    else b.set(names.subarray(from, to), p);
    this.pos = p + len;
    this.starts[++this.n] = this.pos;
  }

  /**
   * A list of entries already encoded back to back in `buf`, entry i being
   * `buf[starts[i], starts[i + 1])` (starts[0] = 0): both are taken as they are, no copy. Entries
   * may be appended after (the buffer is then grown by a copy).
   */
  static fromEncoded(buf: Buffer, starts: Uint32Array): DirentList {
    const l = new DirentList(0, 0);
    l.buf = buf;
    l.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    l.starts = starts;
    l.n = starts.length - 1;
    l.pos = starts[l.n]!;
    return l;
  }

  /** Rewrites the qid of entry `i` (0 ≤ i < length). */
  setQid(i: number, q: Qid): void {
    putQid(this.buf, this.starts[i]!, q);
  }

  /** Rewrites the DT_* type of entry `i`. */
  setType(i: number, type: number): void {
    this.buf[this.starts[i]! + QID_SIZE + 8] = type;
  }

  /** The name of entry `i`. */
  name(i: number): string {
    return this.buf.toString('utf8', this.starts[i]! + DIRENT_HEAD, this.starts[i + 1]!);
  }

  /** The DT_* type of entry `i`. */
  type(i: number): number {
    return this.buf[this.starts[i]! + QID_SIZE + 8]!;
  }

  /** The qid of entry `i`. */
  qid(i: number): Qid {
    const at = this.starts[i]!;
    return new Reader(this.buf, at, at + QID_SIZE).qid();
  }

  /** Entry `i` decoded. */
  dirent(i: number): Dirent {
    const at = this.starts[i]!;
    const r = new Reader(this.buf, at, this.starts[i + 1]!);
    return { qid: r.qid(), offset: r.u64(), type: r.u8(), name: r.str() };
  }

  /**
   * The end (exclusive) of the longest run of whole entries from entry `from` that fits in
   * `count` bytes: `from` itself when even entry `from` does not fit (or from ≥ length).
   */
  fit(from: number, count: number): number {
    if (from >= this.n) return from;
    const limit = this.starts[from]! + count;
    // Binary search for the last end ≤ limit.
    let lo = from;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= limit) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The encoded entries [from, to) as a view (not a copy) of the list's memory. */
  bytes(from: number, to: number): Buffer {
    return this.buf.subarray(this.starts[from]!, this.starts[to]!);
  }

  /** Gives back the spare room (call when done appending; the list stays usable). */
  trim(): void {
    if (this.buf.length - this.pos > 4096) {
      this.buf = Buffer.from(this.buf.subarray(0, this.pos));
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    if (this.starts.length > this.n + 1) this.starts = this.starts.slice(0, this.n + 1);
  }

  private room(bytes: number): void {
    if (this.n + 1 >= this.starts.length) {
      const s = new Uint32Array(this.starts.length * 2);
      s.set(this.starts);
      this.starts = s;
    }
    if (this.pos + bytes <= this.buf.length) return;
    const b = (this.buf = grown(this.buf, this.pos, this.pos + bytes));
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
}

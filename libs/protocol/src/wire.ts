/**
 * Little-endian readers and writers of 9P fields. The Reader never copies: `bytes()` returns a
 * view. The Writer fills a growable scratch buffer that one encode call owns at a time.
 */
import { Errno, NinepError } from './errors.js';
import { QID_SIZE } from './constants.js';
import type { Qid } from './fcall.js';

const TWO32 = 0x1_0000_0000;

/** A malformed message: what the framer and decoder throw. */
export function malformed(why: string): NinepError {
  return new NinepError(`malformed 9P message: ${why}`, Errno.EPROTO);
}

/** Reads fields from `buf[pos, end)`; any read past `end` throws a malformed-message error. */
export class Reader {
  constructor(
    public buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.end) throw malformed(`${n} bytes wanted at ${this.pos}, ${this.end - this.pos} left`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  // Fixed-width fields are read with get16/get32 after `need` has checked the room: Buffer's
  // readUInt*LE would check it again, per field.

  u16(): number {
    this.need(2);
    const v = get16(this.buf, this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = get32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  /** An 8-byte field as a number (exact up to 2^53). */
  u64(): number {
    this.need(8);
    const v = get64(this.buf, this.pos);
    this.pos += 8;
    return v;
  }

  /** An 8-byte field, all 64 bits. */
  u64big(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  str(): string {
    const n = this.u16();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A view of the next n bytes (no copy). */
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  qid(): Qid {
    this.need(QID_SIZE);
    const b = this.buf;
    const p = this.pos;
    this.pos += QID_SIZE;
    // The path from a number when below 2^53 (one bigint made, not readBigUInt64LE's three).
    return { type: b[p]!, version: get32(b, p + 1), path: get32(b, p + 9) < 0x20_0000 ? BigInt(get64(b, p + 5)) : b.readBigUInt64LE(p + 5) };
  }

  /** Throws unless every byte was consumed: a message must fill its frame exactly. */
  done(what: string): void {
    if (this.pos !== this.end) throw malformed(`${this.end - this.pos} trailing bytes after ${what}`);
  }
}

/** Writes fields into a growable buffer; `pos` is the next byte. */
export class Writer {
  buf: Buffer;
  pos = 0;
  /** `buf`'s memory and where `buf` begins in it, for `view` (kept with `buf`). */
  private ab: ArrayBufferLike;
  private base: number;

  constructor(size = 8192) {
    this.buf = Buffer.allocUnsafe(size);
    this.ab = this.buf.buffer;
    this.base = this.buf.byteOffset;
  }

  /** A view of bytes `start` to `end` written so far (see the function `view`). */
  view(start: number, end: number): Buffer {
    return viewAt(this.ab, this.base + start, end - start);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    this.buf = grown(this.buf, this.pos, this.pos + n);
    this.ab = this.buf.buffer;
    this.base = this.buf.byteOffset;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  // Fixed-width fields are stored byte by byte: the same bytes as Buffer's writeUInt*LE, without
  // its argument checks (every value is reduced modulo 2^16 or 2^32 here), which cost more than
  // the stores in a message header.

  u16(v: number): void {
    this.ensure(2);
    put16(this.buf, this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    put32(this.buf, this.pos, v);
    this.pos += 4;
  }

  u64(v: number): void {
    this.ensure(8);
    put64(this.buf, this.pos, v);
    this.pos += 8;
  }

  u64big(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 0xffff) throw new NinepError(`string of ${n} bytes does not fit a 9P string`, Errno.ENAMETOOLONG);
    this.ensure(2 + n);
    this.buf.writeUInt16LE(n, this.pos);
    this.buf.write(s, this.pos + 2, n, 'utf8');
    this.pos += 2 + n;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  qid(q: Qid): void {
    this.ensure(QID_SIZE);
    putQid(this.buf, this.pos, q);
    this.pos += QID_SIZE;
  }

  /** Writes a u16 at an earlier position (for a length known only afterwards); throws above 65535. */
  patch16(at: number, v: number): void {
    if (!(v >= 0 && v <= 0xffff)) throw new RangeError(`length ${v} does not fit a 16-bit field`);
    put16(this.buf, at, v);
  }

  patch32(at: number, v: number): void {
    put32(this.buf, at, v);
  }
}

/** A buffer of at least `need` bytes (doubling) holding the first `used` bytes of `b`. */
export function grown(b: Buffer, used: number, need: number): Buffer {
  let size = b.length * 2 || 64;
  while (size < need) size *= 2;
  const out = Buffer.allocUnsafe(size);
  b.copy(out, 0, 0, used);
  return out;
}

/** Stores `v` modulo 2^16 little-endian at `at` (the caller has checked the room). */
export function put16(b: Buffer, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

/** Stores `v` modulo 2^32 little-endian at `at` (the caller has checked the room). */
export function put32(b: Buffer, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** The largest integer a double holds exactly (2^53 - 1), as a bigint. */
export const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Stores `v` (an integer in [0, 2^53)) as a little-endian u64 at `at` (room checked by the
 * caller). `>>> 0` is v modulo 2^32, exactly, for any such integer; `%` on a double would be a
 * call to fmod (a u64 field cost 25 ns that way, 10 now: an Rgetattr has fifteen).
 */
export function put64(b: Buffer, at: number, v: number): void {
  const lo = v >>> 0;
  put32(b, at, lo);
  put32(b, at + 4, (v - lo) / TWO32);
}

/**
 * Stores qid `q` at `at` (room checked by the caller): its path from a number when below 2^53
 * (every inode number in practice: two comparisons and a conversion, 17 ns, where
 * writeBigUInt64LE's range checks and shifts on the bigint take 47).
 */
export function putQid(b: Buffer, at: number, q: Qid): void {
  b[at] = q.type;
  put32(b, at + 1, q.version);
  const p = q.path;
  if (p >= 0n && p <= MAX_EXACT) put64(b, at + 5, Number(p));
  else b.writeBigUInt64LE(BigInt.asUintN(64, p), at + 5);
}

/**
 * The little-endian u16 and u32 at `at` (the caller has checked the room). Plain element loads:
 * unlike Buffer's readUInt32LE (a call that validates its offset) they compile inline, which the
 * per-request paths (the Twrite decode, frame headers) notice.
 */
export function get16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

export function get32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x100_0000;
}

/** The little-endian u64 at `at` as a number (exact below 2^53; the caller has checked the room). */
export function get64(b: Uint8Array, at: number): number {
  return get32(b, at + 4) * TWO32 + get32(b, at);
}

/**
 * The Buffers `view` makes: Uint8Arrays whose prototype chain goes through Buffer.prototype, so
 * they are Buffers to Buffer.isBuffer and have every Buffer method — as Node's own FastBuffer
 * is, which cannot be reached from outside Node. Their `constructor` is Buffer, so a view taken
 * of one (subarray, slice) is an ordinary Buffer.
 */
class BufferView extends Uint8Array {}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);
Object.defineProperty(BufferView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

/**
 * A Buffer over bytes `start` to `end` of `b`, sharing its memory: what `b.subarray(start, end)`
 * gives, for about the same cost (subarray goes through the species constructor, Buffer's
 * deprecated constructor; here it is `b.buffer`, a call into V8's C++ runtime, about 18 of 35
 * ns). Where the ArrayBuffer is at hand, `viewAt` costs half. Only for buffers that stay in
 * the plumbing (received frames, encoded headers): its prototype is not Buffer.prototype itself,
 * which `assert.deepStrictEqual` would tell from a Buffer, so data handed to users (payloads,
 * strings' bytes) is cut with subarray. The caller keeps 0 <= start <= end <= b.length.
 */
export function view(b: Uint8Array, start: number, end: number): Buffer {
  return new BufferView(b.buffer as ArrayBuffer, b.byteOffset + start, end - start) as unknown as Buffer;
}

/** `view` of `length` bytes at `byteOffset` of `ab` itself (the caller keeps them inside it). */
export function viewAt(ab: ArrayBufferLike, byteOffset: number, length: number): Buffer {
  return new BufferView(ab as ArrayBuffer, byteOffset, length) as unknown as Buffer;
}

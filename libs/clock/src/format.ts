/**
 * The cons(3) clock formats. `time` is text of fixed-width numbers: a 32-bit number is 11
 * digits right-aligned plus a blank (12 bytes), a 64-bit number 21 digits plus a blank
 * (22 bytes); `time` holds seconds (32-bit) then ns since the epoch, ticks, tick frequency and
 * ns since boot (64-bit each): 12 + 4·22 = 100 bytes. `bintime` is the same instant as four
 * big-endian 64-bit numbers (ns since the epoch, ticks, frequency, ns since boot): 32 bytes,
 * whatever the read offset.
 */

/** One reading of a clock. */
export interface ClockSample {
  /** Nanoseconds since the epoch (1970-01-01T00:00:00Z). */
  ns: bigint;
  /** Ticks since boot at `freq`. */
  ticks: bigint;
  /** Ticks per second. */
  freq: bigint;
  /** Nanoseconds since boot (monotonic: never goes back). */
  bootNs: bigint;
}

/** Width of a 32-bit field in the text formats, blank included. */
export const NUMSIZE = 12;
/** Width of a 64-bit field in the text formats, blank included. */
export const VLNUMSIZE = 22;
/** Length of `time`: 1 × 32-bit + 4 × 64-bit fields. */
export const TIME_LEN = NUMSIZE + 4 * VLNUMSIZE;
/** Length of `bintime`: 4 × 8 bytes. */
export const BINTIME_LEN = 32;

const NS_PER_S = 1_000_000_000n;

/**
 * A number as a fixed-width field of `size` bytes: right-aligned in size-1 columns, then a blank
 * (Plan 9 readnum). A number wider than the field keeps its low digits, so the width never changes.
 */
export function numField(n: bigint | number, size: number): string {
  let s = String(n);
  if (s.length > size - 1) s = s.slice(s.length - (size - 1));
  return s.padStart(size - 1) + ' ';
}

/** Whole seconds of `ns` (rounded towards minus infinity). */
export function seconds(ns: bigint): bigint {
  const s = ns / NS_PER_S;
  return ns < 0n && s * NS_PER_S !== ns ? s - 1n : s;
}

/** The 100-byte `time` text of a sample. */
export function formatTime(s: ClockSample): string {
  return (
    numField(seconds(s.ns), NUMSIZE) +
    numField(s.ns, VLNUMSIZE) +
    numField(s.ticks, VLNUMSIZE) +
    numField(s.freq, VLNUMSIZE) +
    numField(s.bootNs, VLNUMSIZE)
  );
}

/** A sample and its seconds field, parsed back from `time` text; throws on anything else. */
export function parseTime(text: Buffer | string): ClockSample & { sec: bigint } {
  const s = typeof text === 'string' ? text : text.toString('latin1');
  if (s.length !== TIME_LEN) throw new RangeError(`time: want ${TIME_LEN} bytes, got ${s.length}`);
  const fields = [s.slice(0, NUMSIZE)];
  for (let i = 0; i < 4; i++) fields.push(s.slice(NUMSIZE + i * VLNUMSIZE, NUMSIZE + (i + 1) * VLNUMSIZE));
  const nums = fields.map((f, i) => {
    if (!/^ *-?[0-9]+ $/.test(f)) throw new RangeError(`time: field ${i} is not a right-aligned number: ${JSON.stringify(f)}`);
    return BigInt(f.trim());
  });
  return { sec: nums[0]!, ns: nums[1]!, ticks: nums[2]!, freq: nums[3]!, bootNs: nums[4]! };
}

/** The 32-byte `bintime` record of a sample. */
export function encodeBintime(s: ClockSample): Buffer {
  const b = Buffer.allocUnsafe(BINTIME_LEN);
  b.writeBigInt64BE(BigInt.asIntN(64, s.ns), 0);
  b.writeBigInt64BE(BigInt.asIntN(64, s.ticks), 8);
  b.writeBigInt64BE(BigInt.asIntN(64, s.freq), 16);
  b.writeBigInt64BE(BigInt.asIntN(64, s.bootNs), 24);
  return b;
}

/**
 * A `bintime` read of `count` bytes (the offset does not matter): as many whole 8-byte fields
 * as fit, in order — 8 bytes give ns, 16 add ticks, 24 the frequency, 32 ns since boot; fewer
 * than 8 give nothing (Plan 9 readbintime).
 */
export function readBintime(s: ClockSample, count: number): Buffer {
  const n = Math.min(BINTIME_LEN, Math.max(0, Math.floor(count / 8) * 8));
  return encodeBintime(s).subarray(0, n);
}

/** A `bintime` record parsed back; needs at least 32 bytes. */
export function decodeBintime(b: Buffer): ClockSample {
  if (b.length < BINTIME_LEN) throw new RangeError(`bintime: want ${BINTIME_LEN} bytes, got ${b.length}`);
  return { ns: b.readBigInt64BE(0), ticks: b.readBigInt64BE(8), freq: b.readBigInt64BE(16), bootNs: b.readBigInt64BE(24) };
}

/** `ns` since the epoch as RFC 3339 UTC with nanoseconds: `2025-01-02T03:04:05.123456789Z`. */
export function formatWall(ns: bigint): string {
  const sec = seconds(ns);
  const frac = ns - sec * NS_PER_S;
  const iso = new Date(Number(sec) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

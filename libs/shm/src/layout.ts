/**
 * The segment: one shared mapping per channel, two SPSC byte rings (one per direction) and two
 * pools of payload slots (one per direction), behind a control page of Int32 words.
 *
 * ```
 * 0      control page (4 KiB), every word that two sides touch on its own 64-byte line:
 *          line 0      magic, version, ringSize, slotCount, slotSize   (written once by side 0)
 *          line 1, 2   closed[side]        set by `side` on an orderly close
 *          line 3, 4   bell[side]          futex word `side` sleeps on (thread mode)
 *          line 5..12  per direction d:    head (producer), tail (consumer),
 *                                          consSleeping (consumer), prodSleeping (producer)
 *          line 13..   slot state words, per direction: 0 free (producer's), 1 sent (consumer's)
 * 4096   ring 0 data (side 0 → side 1), ringSize bytes
 *        ring 1 data (side 1 → side 0)
 *        slots 0 (side 0 → side 1), slotCount × slotSize
 *        slots 1 (side 1 → side 0)
 * ```
 * Side 0 is the end that created the segment (the listener), side 1 the dialer. Head and tail
 * are free-running uint32 byte counters; a position in the ring is `counter & (ringSize - 1)`.
 * A side writes only its own words and never reads back a word it owns: a hostile peer can
 * change what it sees but not what it believes.
 */

export const MAGIC = 0x50395348; // 'P9SH'
export const VERSION = 2;
export const CONTROL_BYTES = 4096;
const LINE = 16; // Int32 words per 64-byte cache line

export const W_MAGIC = 0;
export const W_VERSION = 1;
export const W_RING = 2;
export const W_NSLOTS = 3;
export const W_SLOTSIZE = 4;

/** Word index of `side`'s closed flag. */
export const wClosed = (side: number): number => (1 + side) * LINE;
/** Word index of `side`'s doorbell futex word (thread mode). */
export const wBell = (side: number): number => (3 + side) * LINE;
/** Word indexes of direction `d`'s ring words (d = the producing side). */
export const wHead = (d: number): number => (5 + d * 4) * LINE;
export const wTail = (d: number): number => (6 + d * 4) * LINE;
export const wConsSleep = (d: number): number => (7 + d * 4) * LINE;
export const wProdSleep = (d: number): number => (8 + d * 4) * LINE;
/** Word index of the first slot state word of direction `d`. */
export const wSlots = (d: number): number => 13 * LINE + d * MAX_SLOTS;

export const MAX_SLOTS = 256;
export const MIN_RING = 4096;
export const MAX_RING = 1 << 28;
/** Bytes kept free in front of a reserved payload for the 9P header (Twrite needs 23). */
export const HEADROOM = 64;

/**
 * Record kinds in a ring. Every record is an 8-byte header `len u32, info u32` + content,
 * 8-aligned. Header and descriptor words are in host byte order, like the control words: both
 * ends run on one host.
 */
export const REC_FRAME = 1; // content = skip bytes, then one whole frame; info = kind | skip << 8
export const REC_PAD = 2; // fills the ring to its end; the next record starts at position 0
export const REC_FRAG_FIRST = 3; // first piece of a frame too big for a record: skip bytes (info >> 8, < 8), then the frame's start, size[4] first
export const REC_FRAG_MORE = 4; // next piece; the frame is complete when its size is reached
export const REC_SLOT = 5; // content = slot u32, off u32, len u32: a whole frame in a payload slot
export const REC_HDR = 8;

export interface Layout {
  ringSize: number;
  slotCount: number;
  slotSize: number;
  /** Total bytes of the segment. */
  size: number;
}

export interface LayoutOptions {
  /** Bytes of each ring, a power of two in 4 KiB..256 MiB (default 256 KiB). */
  ringSize?: number;
  /** Payload slots per direction, 0..256 (default 16). */
  slotCount?: number;
  /** Bytes per payload slot, a multiple of 4 KiB (default 64 KiB + 4 KiB). */
  slotSize?: number;
}

export const DEFAULT_RING = 256 * 1024;
export const DEFAULT_SLOTS = 16;
export const DEFAULT_SLOT_SIZE = 68 * 1024;
const MAX_SEGMENT = 2 ** 31 - 4096; // Int32Array index range and a sane upper bound

/**
 * Checks sizes and computes offsets. Throws RangeError for a size that is not allowed; the
 * opener of a segment calls it on the sizes the creator announced, so it is also the first
 * line of defence against a hostile creator.
 */
export function makeLayout(o: LayoutOptions = {}): Layout {
  const ringSize = o.ringSize ?? DEFAULT_RING;
  const slotCount = o.slotCount ?? DEFAULT_SLOTS;
  const slotSize = slotCount === 0 ? 0 : (o.slotSize ?? DEFAULT_SLOT_SIZE);
  if (!Number.isInteger(ringSize) || ringSize < MIN_RING || ringSize > MAX_RING || (ringSize & (ringSize - 1)) !== 0) {
    throw new RangeError(`ring size ${ringSize}: want a power of two in ${MIN_RING}..${MAX_RING}`);
  }
  if (!Number.isInteger(slotCount) || slotCount < 0 || slotCount > MAX_SLOTS) {
    throw new RangeError(`slot count ${slotCount}: want 0..${MAX_SLOTS}`);
  }
  if (slotCount > 0 && (!Number.isInteger(slotSize) || slotSize < 4096 || slotSize % 4096 !== 0)) {
    throw new RangeError(`slot size ${slotSize}: want a multiple of 4096`);
  }
  const size = CONTROL_BYTES + 2 * ringSize + 2 * slotCount * slotSize;
  if (size > MAX_SEGMENT) throw new RangeError(`segment of ${size} bytes is too large`);
  return { ringSize, slotCount, slotSize, size };
}

/** Byte offset of direction `d`'s ring data. */
export const ringOffset = (l: Layout, d: number): number => CONTROL_BYTES + d * l.ringSize;
/** Byte offset of direction `d`'s slot pool. */
export const slotsOffset = (l: Layout, d: number): number => CONTROL_BYTES + 2 * l.ringSize + d * l.slotCount * l.slotSize;

/** Writes the identity words of a fresh segment (side 0 only). */
export function initSegment(sab: SharedArrayBuffer, l: Layout): void {
  const w = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  w[W_MAGIC] = MAGIC;
  w[W_VERSION] = VERSION;
  w[W_RING] = l.ringSize;
  w[W_NSLOTS] = l.slotCount;
  w[W_SLOTSIZE] = l.slotSize;
}

/** True when the segment carries the identity words of `l` (an opener's sanity check). */
export function checkSegment(sab: SharedArrayBuffer, l: Layout): boolean {
  if (sab.byteLength < l.size) return false;
  const w = new Int32Array(sab, 0, CONTROL_BYTES / 4);
  return w[W_MAGIC] === MAGIC && w[W_VERSION] === VERSION && w[W_RING] === l.ringSize && w[W_NSLOTS] === l.slotCount && w[W_SLOTSIZE] === l.slotSize;
}

export const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Offset slicing for synthetic reads (lib9p readstr/readbuf): answer a Tread from a whole
 * string or Buffer. Buffers are sliced as views, never copied.
 */

/** The bytes of `b` at [offset, offset+count): a view; empty past the end. */
export function readBuf(offset: number, count: number, b: Buffer): Buffer {
  if (offset >= b.length) return b.subarray(0, 0);
  return b.subarray(offset, Math.min(b.length, offset + count));
}

/** The UTF-8 bytes of `s` at [offset, offset+count). */
export function readStr(offset: number, count: number, s: string): Buffer {
  return readBuf(offset, count, Buffer.from(s));
}

/**
 * Splits a byte stream into 9P frames. A frame that lies whole in one chunk is passed on as a
 * view of that chunk (no copy); a frame split across chunks is assembled once into a buffer
 * of exactly its size.
 */
import { HEADER_SIZE } from './constants.js';
import { Errno, NinepError } from './errors.js';

/** A frame whose size field is impossible: the stream cannot be resynchronised after it. */
export class FrameError extends NinepError {
  constructor(why: string) {
    super(why, Errno.EMSGSIZE);
    this.name = 'FrameError';
  }
}

/**
 * The size field of a frame, checked: returns `size` when 7 <= size <= maxSize, else throws the
 * FrameError every framing path uses (the Framer here, a transport reading into its own buffers).
 */
export function checkFrameSize(size: number, maxSize: number): number {
  if (size < HEADER_SIZE) throw new FrameError(`frame size ${size} is below the ${HEADER_SIZE}-byte header`);
  if (size > maxSize) throw new FrameError(`frame size ${size} exceeds msize ${maxSize}`);
  return size;
}

export class Framer {
  /** Largest accepted frame; the session lowers it to the negotiated msize. */
  maxSize: number;
  private partial: Buffer | null = null;
  private filled = 0;
  private readonly head = Buffer.alloc(4);
  private headLen = 0;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.partial ? this.filled : this.headLen;
  }

  /**
   * Feeds one chunk and calls `onFrame` for every frame it completes, in order.
   * Throws FrameError when a size field is below 7 or above `maxSize`; the framer is then
   * unusable, as the stream has lost its framing.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let off = 0;
    const len = chunk.length;
    if (this.headLen > 0) {
      const take = Math.min(4 - this.headLen, len);
      chunk.copy(this.head, this.headLen, 0, take);
      this.headLen += take;
      off = take;
      if (this.headLen < 4) return;
      const size = this.check(this.head.readUInt32LE(0));
      this.partial = Buffer.allocUnsafe(size);
      this.head.copy(this.partial, 0);
      this.filled = 4;
      this.headLen = 0;
    }
    if (this.partial) {
      const p = this.partial;
      const take = Math.min(p.length - this.filled, len - off);
      chunk.copy(p, this.filled, off, off + take);
      this.filled += take;
      off += take;
      if (this.filled < p.length) return;
      this.partial = null;
      this.filled = 0;
      onFrame(p);
    }
    while (off < len) {
      const rest = len - off;
      if (rest < 4) {
        chunk.copy(this.head, 0, off, len);
        this.headLen = rest;
        return;
      }
      const size = this.check(chunk.readUInt32LE(off));
      if (rest >= size) {
        onFrame(chunk.subarray(off, off + size));
        off += size;
        continue;
      }
      const p = Buffer.allocUnsafe(size);
      chunk.copy(p, 0, off, len);
      this.partial = p;
      this.filled = rest;
      return;
    }
  }

  private check(size: number): number {
    return checkFrameSize(size, this.maxSize);
  }
}

/**
 * copyFrame: a private copy of a received frame whose memory is about to be reused (a shared
 * ring, a receive slab that is lent out), for the transports' receive paths.
 */
import { Buffer } from 'node:buffer'; // not the global: in Node 20 that is a getter on globalThis, read on every use
import { viewAt } from '@prose/protocol';

/**
 * Frames below CARVE_MAX bytes are cut from chunks of CARVE_CHUNK bytes of our own, as
 * Buffer.allocUnsafe cuts small buffers from its pool, at half its cost (16 against 30 ns a
 * frame). A chunk lives as long as any frame cut from it.
 */
const CARVE_CHUNK = 8192;
const CARVE_MAX = 1024;
let chunk = new ArrayBuffer(CARVE_CHUNK);
let chunkU8 = new Uint8Array(chunk);
let chunkPos = 0;

/**
 * TypedArray#set, called as a function: looked up as a method on a buffer in a receive loop it
 * was a generic property load in V8's optimized code (--print-opt-code), on every frame.
 */
export const u8Set = Uint8Array.prototype.set;

/**
 * A copy of the `n` bytes at `at` of `ab`, at the same address mod 8: V8 copies a word at a time
 * only between equally aligned addresses (byte by byte otherwise, four times slower), so a
 * payload copied on keeps its alignment. It takes the ArrayBuffer, not a view of it: a view's
 * `.buffer` is a call into V8's C++ runtime (18 ns).
 */
export function copyFrame(ab: ArrayBufferLike, at: number, n: number): Buffer {
  const phase = at & 7;
  const src = new Uint8Array(ab, at, n);
  if (n < CARVE_MAX) {
    let pos = chunkPos + phase;
    if (pos + n > CARVE_CHUNK) {
      chunk = new ArrayBuffer(CARVE_CHUNK);
      chunkU8 = new Uint8Array(chunk);
      pos = phase;
    }
    u8Set.call(chunkU8, src, pos);
    chunkPos = (pos + n + 7) & ~7;
    return viewAt(chunk, pos, n);
  }
  const out = phase === 0 ? Buffer.allocUnsafe(n) : Buffer.allocUnsafe(n + 8).subarray(phase, phase + n);
  u8Set.call(out, src);
  return out;
}

/**
 * Buffers for big received frames that the handler keeps (a client's `read()` replies): made
 * from @prose/posix's recycled memory where the addon has it. A frame kept is a Buffer the
 * caller may hold for as long as it likes, so it cannot come from a pool we hand out again
 * ourselves; but once V8 has collected it, its memory can serve the next frame. From Node's
 * allocator each megabyte frame is fresh memory (the kernel faults in and zeroes its pages as
 * the socket read copies into it); recycled, it is mapped and warm. A client reading 256 MiB
 * in 1 MiB Rreads from the storage service, 8 in flight, both on one CPU: the client's CPU
 * 200-250 ms -> 145-165 ms, the read 240-300 ms -> 185-225.
 *
 * Frames of RECYCLE_MIN or more only. Memory waits for reuse only while frames keep coming:
 * after IDLE_TRIM_MS without one, what waits is unmapped. `PROSE_RECYCLE=0` in the
 * environment turns recycling off (Node's allocator for every frame).
 */
import { Buffer } from 'node:buffer';
import { recycler, type Recycler } from '@prose/posix';

/**
 * Frames below this come from Node's allocator: glibc serves them from its heap (below its
 * mmap threshold, 128 KiB to begin with), memory it reuses already, and a recycled block would
 * cost a mapping of its own until the first collection.
 */
export const RECYCLE_MIN = 128 * 1024;

/** After this long without a kept frame, the recycled memory waiting for one is let go. */
export const IDLE_TRIM_MS = 1000;

const rec: Recycler | undefined = process.env.PROSE_RECYCLE === '0' ? undefined : recycler();
let used = false;
let timer: NodeJS.Timeout | undefined;

/** Every IDLE_TRIM_MS while frames come; the first check that finds none since the last trims. */
function check(): void {
  if (used) {
    used = false;
    timer!.refresh();
    return;
  }
  timer = undefined;
  rec!.recycleTrim(0);
}

/** A Buffer of `size` bytes (contents undefined) for a frame its handler keeps. */
export function keptBuffer(size: number): Buffer {
  if (rec !== undefined && size >= RECYCLE_MIN) {
    const b = rec.recycledBuffer(size);
    if (typeof b !== 'number') {
      used = true;
      if (timer === undefined) timer = setTimeout(check, IDLE_TRIM_MS).unref();
      return b;
    }
  }
  return Buffer.allocUnsafe(size);
}

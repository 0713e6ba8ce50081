/**
 * Recycled memory for Buffers that a process makes and drops at a high rate: big received
 * frames, such as 1 MiB Rreads read with `read()`, whose buffers the caller keeps. From
 * Node's allocator each is fresh memory: glibc maps it, or hands back heap it trimmed, and the
 * kernel faults its pages in and zeroes them while the socket read copies into it (10,000-20,000
 * page faults per 256 MiB read). A recycled Buffer's memory goes back to the addon's free lists
 * when V8 collects the Buffer, and the next Buffer of that size (rounded up to whole pages) is
 * made from it, mapped and warm. V8 still counts it as the Buffer's external memory, so it
 * collects as often as before. Measured with a client reading 256 MiB in 1 MiB Treads from
 * the storage service, 8 in flight, both on one CPU: the client's CPU 200-250 ms -> 145-165 ms.
 *
 * At most 64 MiB wait on the lists (a block freed beyond that is unmapped); `recycleTrim` lets
 * them go.
 */
import { addonWith } from './native.js';

/** The addon's recycling calls, all present. */
export interface Recycler {
  /** A Buffer of `size` bytes (contents undefined) whose memory is recycled once it is collected, or -errno. */
  recycledBuffer(size: number): Buffer | number;
  /** [bytes waiting on the free lists, Buffers made from recycled memory, Buffers made from new memory]. */
  recycleStats(): [number, number, number];
  /** Unmaps waiting memory, the biggest blocks first, until at most `keepBytes` waits; returns the bytes let go. */
  recycleTrim(keepBytes: number): number;
}

let rec: Recycler | null | undefined;

/** The recycling calls, or undefined where the addon is missing or was built before them. */
export function recycler(): Recycler | undefined {
  if (rec === undefined) rec = addonWith<Recycler>(['recycledBuffer', 'recycleStats', 'recycleTrim']) ?? null;
  return rec ?? undefined;
}

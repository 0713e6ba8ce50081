/**
 * Big reads served from a mapping of the file: the Rread's data is a view of a read-only shared
 * mapping (@prose/posix filemap.ts), which the socket write copies from the page cache once,
 * instead of pread(2) copying it into a buffer and the socket write copying that again (see the
 * README's storage figures).
 *
 * Windows: the arena is SLOTS slots of SLOT bytes of address space, reserved on first use. A fid
 * that reads big has its file mapped into one slot, from an offset rounded down to SLOT_ALIGN
 * (past the end of the file if need be: a growing file stays covered); a read outside it maps
 * the window anew, into the same slot when it can. With every slot in use, the least recently
 * read one goes to the new reader. A closed fid's slot is emptied, letting the file go.
 *
 * When a slot may change: a view handed out is read by the kernel when the reply is written, in
 * the same turn of the event loop — `Srv.read`'s synchronous result is sent at once, and the
 * transport writes it at its flush (at the end of the read being handled, or a nextTick) and
 * copies what it cannot write (@prose/transport volatile.ts). So a slot read from is pinned
 * until a setImmediate, which runs after all that: until then it is not mapped over or emptied.
 *
 * A read is served from a window only when:
 * - the Conn takes volatile parts (`req.volatileReplies`: our own socket writes, no trace), as
 *   the bytes must never be read in user mode — a file truncated under the mapping would be a
 *   SIGBUS;
 * - every page of it is in memory (mincore(2)): the socket write runs on the event loop, and a
 *   page it had to fetch from disk would stall every client; such a read is served the usual
 *   way, through the thread pool, which brings the pages in;
 * - it fits a window (SLOT - SLOT_ALIGN bytes), and a slot is free to map.
 * The count is the file's size at the time of the read (fstat), as pread(2) would give. A file
 * truncated by someone else between that fstat and the socket write reads as zeros where its
 * bytes went, where pread would have returned fewer: the one visible difference, in a window of
 * microseconds (a reply that cannot be sent at once is copied out at once).
 */
import { fileMap, fstat, type FileMap } from '@prose/posix';
import { markVolatile } from '@prose/transport';

/** Bytes of a window (one slot of the arena). */
const SLOT = 16 * 1024 * 1024;
/** A window starts at a file offset that is a multiple of this: any read of SLOT - SLOT_ALIGN bytes fits one. */
const SLOT_ALIGN = 4 * 1024 * 1024;
/** Slots in the arena: SLOTS × SLOT bytes of address space (no memory: the pages are the page cache's). */
const SLOTS = 32;

const EMPTY = Buffer.alloc(0);

/** What a fid holds for mapped reads: the slot of its window, or null once its file could not be mapped (never tried again). */
export interface MapHolder {
  map?: number | null;
}

/** A window of the arena. */
interface Slot {
  readonly index: number;
  /** The fid whose window it holds; undefined when free (it may still map a file until emptied). */
  owner: MapHolder | undefined;
  /** The file offset of the slot's first byte. */
  start: number;
  /** A file is mapped here. */
  mapped: boolean;
  /** Read from in this turn of the loop (see the module doc). */
  pinned: boolean;
  /** When last read from (for the choice of a slot to take). */
  used: number;
}

export class MappedReads {
  private arena: Buffer | undefined = undefined;
  private readonly slots: Slot[] = [];
  private pinnedSlots: Slot[] = [];
  private clock = 0;
  /** The arena could not be reserved: nothing is mapped. */
  private refused = false;
  private readonly unpinAll = (): void => this.unpin();

  private constructor(
    private readonly fm: FileMap,
    /** Reads of fewer bytes are not mapped (a pread of a few KiB costs less than the checks). */
    readonly min: number,
  ) {
    for (let i = 0; i < SLOTS; i++) this.slots.push({ index: i, owner: undefined, start: 0, mapped: false, pinned: false, used: 0 });
  }

  /** Mapped reads of `min` bytes or more, or undefined where they cannot be made (no addon, or no kernel copy) or `min` is 0. */
  static create(min: number): MappedReads | undefined {
    const fm = min > 0 ? fileMap() : undefined;
    return fm !== undefined ? new MappedReads(fm, min) : undefined;
  }

  /**
   * `count` bytes of the open regular file `fd` at `offset` (fewer at the end of the file, none
   * past it), as a volatile view of `h`'s window; undefined when this read is to be served the
   * usual way (see the module doc).
   */
  read(h: MapHolder, fd: number, offset: number, count: number): Buffer | undefined {
    if (h.map === null) return undefined;
    const size = fstat(fd).size;
    if (offset >= size) return EMPTY;
    const n = Math.min(count, size - offset);
    if (n > SLOT - SLOT_ALIGN) return undefined;
    let slot = typeof h.map === 'number' ? this.slots[h.map]! : undefined;
    if (slot === undefined || slot.owner !== h || offset < slot.start || offset + n > slot.start + SLOT) {
      slot = this.place(h, fd, offset - (offset % SLOT_ALIGN));
      if (slot === undefined) return undefined;
    }
    const arena = this.arena!;
    const at = slot.index * SLOT + (offset - slot.start);
    if (this.fm.residentPages(arena, at, n) !== 1) return undefined;
    slot.used = ++this.clock;
    if (!slot.pinned) {
      slot.pinned = true;
      this.pinnedSlots.push(slot);
      if (this.pinnedSlots.length === 1) setImmediate(this.unpinAll);
    }
    return arena.subarray(at, at + n);
  }

  /** The fid is closing: its slot, if any, is emptied (once no reply may read it). */
  release(h: MapHolder): void {
    const i = h.map;
    h.map = undefined;
    if (typeof i !== 'number') return;
    const slot = this.slots[i]!;
    if (slot.owner !== h) return;
    slot.owner = undefined;
    if (!slot.pinned) this.empty(slot);
  }

  /** Maps `fd` from `start` into a slot for `h`: its own, else a free one, else the least recently read; undefined when every other is pinned or the mapping fails. */
  private place(h: MapHolder, fd: number, start: number): Slot | undefined {
    if (this.refused) return undefined;
    const arena = this.arena ?? this.reserve();
    if (arena === undefined) return undefined;
    const own = typeof h.map === 'number' ? this.slots[h.map]! : undefined;
    let slot = own !== undefined && own.owner === h && !own.pinned ? own : undefined;
    if (slot === undefined) {
      for (const s of this.slots) {
        if (s.pinned) continue;
        if (s.owner === undefined) {
          slot = s;
          break;
        }
        if (slot === undefined || s.used < slot.used) slot = s;
      }
      if (slot === undefined) return undefined;
      if (own !== undefined && own.owner === h) own.owner = undefined; // pinned now, emptied or reused later
      if (slot.owner !== undefined && slot.owner !== h) slot.owner.map = undefined;
    }
    slot.owner = undefined;
    slot.mapped = false;
    const r = this.fm.mapInto(arena, slot.index * SLOT, fd, start, SLOT);
    if (r < 0) {
      h.map = null; // not mappable: a device, a file system without mmap, a descriptor not open for reading
      return undefined;
    }
    slot.owner = h;
    slot.start = start;
    slot.mapped = true;
    h.map = slot.index;
    return slot;
  }

  /** Reserves the arena and marks it volatile; undefined (and no mapped reads from now on) when the address space is refused. */
  private reserve(): Buffer | undefined {
    const a = this.fm.reserveArena(SLOTS * SLOT);
    if (typeof a === 'number') {
      this.refused = true;
      return undefined;
    }
    const fm = this.fm;
    markVolatile(a, (view) => {
      const r = fm.copyMapped(view, 0, view.length);
      return typeof r === 'number' ? undefined : r[0];
    });
    return (this.arena = a);
  }

  /** End of a turn: the slots read from may change again; free ones are emptied. */
  private unpin(): void {
    const ps = this.pinnedSlots;
    this.pinnedSlots = [];
    for (const s of ps) {
      s.pinned = false;
      if (s.owner === undefined) this.empty(s);
    }
  }

  private empty(slot: Slot): void {
    if (!slot.mapped) return;
    slot.mapped = false;
    this.fm.unmapFrom(this.arena!, slot.index * SLOT, SLOT);
  }
}

/**
 * The receive buffer of a socket Conn: where Node's `onread` puts the bytes, and how they become
 * frames. Two modes:
 *
 * - **Keep** (the default): every frame is the handler's to keep. Reads land back to back in a
 *   slab and frames are handed on (`onFrame`) as views of it. A slab is never written twice;
 *   when too little of it is left for the next read, a new one is taken and only the unfinished
 *   frame's bytes are copied over. A big frame (BIG_FRAME or more) that a read left incomplete
 *   moves to a buffer of exactly its size (only what was read so far is copied) and the reads
 *   that follow fill it directly.
 *
 * - **Lend** (`lend` set): frames are lent, valid until their `release()`, and the memory is
 *   reused once every frame in it is released. Frames of LEND_MIN or more go to `lend` in
 *   place; smaller ones are copied out to `onFrame` (for them a copy costs about what a lease
 *   does, and leaves nothing in the slab to wait for). The slab is rewound to its start whenever
 *   nothing in it is still lent, so a handler that releases each frame before the next read (a
 *   server answering at once) reads every request into the same, warm memory; a slab with lent
 *   frames left in it is set aside and reused once they are released. A frame up to half a
 *   slab is read on in the slab; a bigger one that a read left incomplete moves to a staging
 *   buffer from the process's pool of big buffers (`bigBuffers`), back there once released.
 *   `lendIf`, when set, is asked about each frame of LEND_MIN or more with its type and tag:
 *   a frame it refuses goes to `onFrame` as the handler's own — copied out of the slab when
 *   small, or, when big (BIG_FRAME or more), read into a buffer of exactly its size as in keep
 *   mode, so a frame the handler keeps costs no copy either way.
 *
 * Why lend: much of the cost of a frame is the kernel writing it into memory that is not in
 * cache, as fresh memory is (a 64 KiB exchange costs the receiving process about 10 µs less CPU
 * lent than kept, an 8 KiB one 1–2 µs, on a 2-vCPU VM).
 *
 * In both modes, after a big frame the next read is short (PROBE_READ), so that little of a
 * following big frame lands in the slab to be copied out before its size is known (lending
 * 1 MiB Rreads without it, a quarter of each was read into the slab and moved: the client's CPU
 * per 256 MiB read on one CPU went from 77–87 ms to 63–68 with it).
 */
import { Buffer } from 'node:buffer'; // not the global: in Node 20 that is a getter on globalThis, read on every use
import { checkFrameSize, get16, get32, view, viewAt } from '@prose/protocol';
import { bigBuffers } from './buffer-pool.js';
import { DEFAULT_MAX_FRAME } from './conn.js';
import { copyFrame } from './frame-copy.js';
import { keptBuffer } from './kept-buffer.js';

/** Least room left for one read in a receive slab. */
const MIN_READ = 16 * 1024;
/** Size of a receive slab that is not reused (keep mode). */
const SLAB_SIZE = 64 * 1024;
/** Size of a receive slab that is reused (lend mode): larger, so a burst of frames is one read. */
const LEND_SLAB_SIZE = 256 * 1024;
/** Slabs kept for reuse in lend mode, besides the one being read into. */
const MAX_SPARE_SLABS = 2;
/** Bytes of a frame that say what it is: size[4] type[1] tag[2] (`lendIf` is asked with the last two). */
const HEAD = 7;
/** In lend mode, frames below this size are copied out rather than lent. */
const LEND_MIN = 512;
/** A frame this big that one read did not complete moves out of the slab. */
const BIG_FRAME = 16 * 1024;
/**
 * After a big frame, the first read of the next frame is at most this long: if that frame is
 * big too, little of it lands in the slab (to be copied out) before its size is known.
 */
const PROBE_READ = 4 * 1024;

/** A receive slab in lend mode, and how many of its frames are still lent. */
class Slab {
  lent = 0;
  /** No longer read into: back to the spares once nothing in it is lent. */
  retired = false;
  constructor(readonly buf: Buffer) {}
}

/** A lent frame's `release`: runs `give` the first time it is called, never again. */
function releaseOnce(give: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    give();
  };
}

/** See the module doc. Pass `onread` in the socket's options. */
export class SlabReader {
  /** Largest accepted frame (see Conn.setMaxFrame). */
  maxFrame: number;
  /** For net.connect({ onread }): where the next read goes, and the callback with its length. */
  readonly onread: { buffer: () => Buffer; callback: (n: number) => boolean };
  /** Set by the SocketConn that owns the socket: bytes arrived (see `take`). */
  onBytes: (n: number) => void = () => {};
  /**
   * Lend mode, when set: where frames of LEND_MIN or more go in place (from the next slab on);
   * `frame` is valid until `release()` (which may be called at any time, more than once), then
   * its memory is reused for later frames.
   */
  lend: ((frame: Buffer, release: () => void) => void) | undefined = undefined;
  /** Lend mode: which frames to lend, asked with their type and tag (default: all; see the module doc). */
  lendIf: ((type: number, tag: number) => boolean) | undefined = undefined;
  private buf: Buffer = Buffer.alloc(0);
  /** `buf`'s memory and where `buf` begins in it (kept with `buf`: views of it are made per frame). */
  private ab: ArrayBufferLike = this.buf.buffer;
  private base = 0;
  /** Lend mode: the slab `buf` belongs to. */
  private slab: Slab | undefined = undefined;
  private readonly spareSlabs: Slab[] = [];
  /** Start of the first frame not yet handed on. */
  private rpos = 0;
  /** End of the bytes read. */
  private wpos = 0;
  /** The big frame being read (exactly its size), its staging buffer when lent, and how much has arrived. */
  private big: Buffer | undefined = undefined;
  private stage: Buffer | undefined = undefined;
  private bigHave = 0;
  /** The last frame was big: begin the next one with a short read (PROBE_READ). */
  private afterBig = false;

  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
    this.onread = {
      buffer: () => this.room(),
      callback: (n) => {
        this.onBytes(n);
        return true;
      },
    };
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.big !== undefined ? this.bigHave : this.wpos - this.rpos;
  }

  /**
   * Accounts `n` bytes just read and hands on every frame they complete, in order: to `lend`
   * or `onFrame` (see the module doc). Throws FrameError on a size field below 7 or above
   * `maxFrame` (the stream is then lost).
   */
  take(n: number, onFrame: (frame: Buffer) => void): void {
    const big = this.big;
    if (big !== undefined) {
      // The read filled part of the big frame's buffer (never more than the frame).
      this.bigHave += n;
      if (this.bigHave < big.length) return;
      const stage = this.stage;
      this.big = this.stage = undefined;
      this.afterBig = true;
      if (stage !== undefined && this.lend !== undefined) this.lend(big, releaseOnce(() => bigBuffers.give(stage)));
      else onFrame(big);
      return;
    }
    this.afterBig = false;
    this.wpos += n;
    const buf = this.buf;
    const end = this.wpos;
    // (A slab taken before `lend` was set, as Node takes the first one, is not lent from.)
    const slab = this.slab;
    const lend = slab !== undefined ? this.lend : undefined;
    let p = this.rpos;
    while (end - p >= 4) {
      const size = checkFrameSize(get32(buf, p), this.maxFrame);
      if (end - p < size) break;
      this.rpos = p + size;
      if (lend === undefined) onFrame(viewAt(this.ab, this.base + p, size));
      else if (size < LEND_MIN || !this.lendable(p)) {
        onFrame(copyFrame(this.ab, this.base + p, size));
      } else {
        slab!.lent++;
        lend(viewAt(this.ab, this.base + p, size), releaseOnce(() => this.unlend(slab!)));
      }
      p = this.rpos;
    }
  }

  /** Whether the frame at `at` in the slab (its first HEAD bytes read) is to be lent: `lendIf`'s answer. */
  private lendable(at: number): boolean {
    return this.lendIf === undefined || this.lendIf(this.buf[at + 4]!, get16(this.buf, at + 5));
  }

  /** A lent frame of `slab` was released. */
  private unlend(slab: Slab): void {
    if (--slab.lent === 0 && slab.retired && this.spareSlabs.length < MAX_SPARE_SLABS) {
      slab.retired = false;
      this.spareSlabs.push(slab);
    }
  }

  /**
   * The buffer the next read fills: the rest of the big frame's buffer; or, for a big frame
   * just begun, its new buffer holding what has arrived; else the rest of the slab (rewound
   * first in lend mode when nothing in it is lent), or a new slab holding the partial frame.
   */
  private room(): Buffer {
    if (this.big !== undefined) return view(this.big, this.bigHave, this.big.length);
    const have = this.wpos - this.rpos;
    const lending = this.lend !== undefined;
    let need = MIN_READ;
    if (have >= 4) {
      const size = get32(this.buf, this.rpos);
      // (A size above maxFrame is left for `take` to refuse.)
      if (size >= BIG_FRAME && size <= this.maxFrame) {
        // A frame the handler will keep goes to a buffer of its own, as in keep mode.
        const lend = lending && (have < HEAD || this.lendable(this.rpos));
        // Lent, a frame up to half a slab is read on in the slab (reused memory too).
        if (lend && size <= LEND_SLAB_SIZE / 2) need = Math.max(need, size - have);
        else return this.moveBig(size, have, lend);
      }
    }
    if (lending) {
      this.roomToLend(have, need);
      const w = this.wpos;
      return viewAt(this.ab, this.base + w, (this.afterBig && this.rpos === w ? Math.min(w + PROBE_READ, this.buf.length) : this.buf.length) - w);
    }
    if (this.buf.length - this.wpos < MIN_READ) this.nextSlab(Buffer.allocUnsafe(SLAB_SIZE), have);
    const w = this.wpos;
    // (a view, not subarray: a read's buffer is made per read, and subarray costs twice as much)
    return viewAt(this.ab, this.base + w, (this.afterBig && this.rpos === w ? w + PROBE_READ : this.buf.length) - w);
  }

  /**
   * A big frame of `size` with `have` bytes read moves out of the slab: to a staging buffer
   * when lending, else to a buffer of its own. Returns where its next read goes.
   */
  private moveBig(size: number, have: number, lending: boolean): Buffer {
    const stage = lending ? bigBuffers.take(size) : undefined;
    const big = stage !== undefined ? stage.subarray(0, size) : keptBuffer(size);
    this.buf.copy(big, 0, this.rpos, this.wpos);
    // Those slab bytes were never handed on: the next read may go there again.
    this.wpos = this.rpos;
    this.big = big;
    this.stage = stage;
    this.bigHave = have;
    return view(big, have, big.length);
  }

  /**
   * Lend mode: makes room for at least `need` more bytes after the `have` of a partial frame —
   * rewinding the slab when nothing in it is lent, else moving on to a spare or new one.
   */
  private roomToLend(have: number, need: number): void {
    const slab = this.slab;
    if (slab !== undefined && slab.lent === 0 && this.rpos > 0 && (have === 0 || this.buf.length - this.wpos < need)) {
      // Nothing before the partial frame is in use: move it to the start and read on there.
      if (have > 0) this.buf.copy(this.buf, 0, this.rpos, this.wpos);
      this.rpos = 0;
      this.wpos = have;
    }
    if (slab !== undefined && this.buf.length - this.wpos >= need) return;
    if (slab !== undefined) {
      if (slab.lent > 0) slab.retired = true;
      else if (this.spareSlabs.length < MAX_SPARE_SLABS) this.spareSlabs.push(slab);
    }
    const next = this.spareSlabs.pop() ?? new Slab(Buffer.allocUnsafe(LEND_SLAB_SIZE));
    this.slab = next;
    this.nextSlab(next.buf, have);
  }

  /** Reads go on in `next`, which gets the partial frame's `have` bytes. */
  private nextSlab(next: Buffer, have: number): void {
    if (have > 0) this.buf.copy(next, 0, this.rpos, this.wpos);
    this.buf = next;
    this.ab = next.buffer;
    this.base = next.byteOffset;
    this.rpos = 0;
    this.wpos = have;
  }
}

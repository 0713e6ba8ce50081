/**
 * One side of a channel: the producer of one ring and the consumer of the other, with the
 * payload slots of both directions. No signalling here — `ringPeer` is called when the peer
 * sleeps and has something to wake for; the Conn decides how to wait.
 *
 * The peer is hostile: every word and record header it wrote is read once into a local,
 * checked against the ring's bounds, and only then used. A bad one throws ShmError('corrupt')
 * (or FrameError for a frame size outside 7..maxFrame) and the Conn closes. All memory access
 * goes through bounds-checked views of the SharedArrayBuffer, so even a missed check cannot
 * reach outside the segment.
 */
import { FrameError, HEADER_SIZE } from '@prose/protocol';
import { DEFAULT_MAX_FRAME } from '@prose/transport';
import { ShmError } from './errors.js';
import {
  HEADROOM, REC_FRAG_FIRST, REC_FRAG_MORE, REC_FRAME, REC_HDR, REC_PAD, REC_SLOT, align8, ringOffset, slotsOffset,
  wClosed, wConsSleep, wHead, wProdSleep, wSlots, wTail, type Layout,
} from './layout.js';

/** Where received frames go. `release` is given only for zero-copy deliveries. */
export interface RxSink {
  /** True when the sink takes views into the segment (and calls `release`). */
  readonly zeroCopy: boolean;
  deliver(frame: Buffer, release: (() => void) | undefined): void;
  /** Polled between frames: stop receiving (frames stay in the ring). */
  readonly paused: boolean;
}

interface Pending {
  parts: readonly Buffer[];
  total: number;
  /** Bytes of the frame already written as fragments. */
  sent: number;
  /** Zero-copy: the frame already sits in tx slot `slot` at `off`. */
  slot: number;
  off: number;
  /** A reservation whose payload is copied (header too long): freed once the copy is done. */
  hold: number;
}

/** Frames at least this big go to a payload slot when one is free (so a zero-copy receiver gets a view). */
export const SLOT_MIN = 2048;

export class Endpoint {
  readonly peer: number;
  private readonly w: Int32Array;
  private readonly mask: number;
  /** Largest record (header included) in a ring; bigger frames go to slots or fragments. */
  private readonly maxRecord: number;

  // tx: ring `side`, slots `side`
  private readonly tx: Buffer;
  private readonly txSlots: Buffer;
  private txHead = 0; // written, not yet published beyond txPublished
  private txPublished = 0;
  private txTailSeen = 0;
  private readonly pending: Pending[] = [];
  private readonly reservedSlot: Uint8Array;
  private readonly reservations = new Map<number, number>(); // payload byteOffset → slot
  private slotCursor = 0;

  // rx: ring `peer`, slots `peer`
  private readonly rx: Buffer;
  private readonly rxSlots: Buffer;
  private rxTail = 0;
  private readonly held: Uint8Array;
  private frag: Buffer | null = null;
  private fragFilled = 0;

  maxFrame = DEFAULT_MAX_FRAME;
  /** Counters for tests and the bench: frames sent by copy, by zero-copy slot, as fragments. */
  readonly stats = { txRing: 0, txSlotCopy: 0, txSlotZeroCopy: 0, txFragmented: 0, rxCopied: 0, rxViews: 0 };

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: Layout,
    readonly side: number,
    private readonly ringPeer: () => void,
  ) {
    this.peer = 1 - side;
    this.w = new Int32Array(sab, 0, 1024);
    this.mask = layout.ringSize - 1;
    this.maxRecord = layout.ringSize / 4;
    this.tx = Buffer.from(sab, ringOffset(layout, side), layout.ringSize);
    this.rx = Buffer.from(sab, ringOffset(layout, this.peer), layout.ringSize);
    const slotBytes = layout.slotCount * layout.slotSize;
    this.txSlots = Buffer.from(sab, slotsOffset(layout, side), slotBytes);
    this.rxSlots = Buffer.from(sab, slotsOffset(layout, this.peer), slotBytes);
    this.reservedSlot = new Uint8Array(layout.slotCount);
    this.held = new Uint8Array(layout.slotCount);
  }

  // ---- state words ------------------------------------------------------------------------

  /** Announces an orderly close to the peer. */
  markClosed(): void {
    Atomics.store(this.w, wClosed(this.side), 1);
  }

  peerClosed(): boolean {
    return Atomics.load(this.w, wClosed(this.peer)) !== 0;
  }

  /** True when the peer has published records we have not consumed. */
  rxReady(): boolean {
    return (Atomics.load(this.w, wHead(this.peer)) >>> 0) !== this.rxTail;
  }

  /** Frames queued because the ring was full. */
  get txQueued(): number {
    return this.pending.length;
  }

  /**
   * Declares that this side is about to sleep: for data (`rx`) and/or for ring space (`tx`).
   * Returns false if there is already something to do (flags are then cleared again); only on
   * true may the caller sleep. The peer, after publishing, reads the flag (both seq_cst), so a
   * wake-up cannot be lost between the check and the sleep.
   */
  armSleep(rx: boolean, tx: boolean): boolean {
    if (rx) Atomics.store(this.w, wConsSleep(this.peer), 1);
    if (tx) Atomics.store(this.w, wProdSleep(this.side), 1);
    const busy = (rx && this.rxReady()) || (tx && this.txSpaceChanged()) || this.peerClosed();
    if (busy) this.disarmSleep();
    return !busy;
  }

  disarmSleep(): void {
    Atomics.store(this.w, wConsSleep(this.peer), 0);
    Atomics.store(this.w, wProdSleep(this.side), 0);
  }

  private txSpaceChanged(): boolean {
    return (Atomics.load(this.w, wTail(this.side)) >>> 0) !== this.txTailSeen;
  }

  // ---- transmit ---------------------------------------------------------------------------

  /**
   * A writable view of `n` bytes in a free tx payload slot, or undefined (no slot free, too
   * big, no slots configured). Sending `[header, view]` then moves no payload byte: the header
   * is written just in front of the view and the peer gets a descriptor. A reservation must be
   * sent or given back (`unreserve`) promptly; until then its slot is not reused.
   */
  reserve(n: number): Buffer | undefined {
    const { slotCount, slotSize } = this.layout;
    if (!(n >= 0 && n <= slotSize - HEADROOM)) return undefined;
    for (let k = 0; k < slotCount; k++) {
      const i = (this.slotCursor + k) % slotCount;
      if (this.reservedSlot[i] || Atomics.load(this.w, wSlots(this.side) + i) !== 0) continue;
      this.slotCursor = (i + 1) % slotCount;
      this.reservedSlot[i] = 1;
      const view = this.txSlots.subarray(i * slotSize + HEADROOM, i * slotSize + HEADROOM + n);
      this.reservations.set(view.byteOffset, i);
      return view;
    }
    return undefined;
  }

  /** Gives back a reservation that will not be sent. */
  unreserve(view: Buffer): void {
    const i = this.reservations.get(view.byteOffset);
    if (i === undefined || view.buffer !== this.sab) return;
    this.reservations.delete(view.byteOffset);
    this.reservedSlot[i] = 0;
  }

  /** Queues one frame (parts back to back) and writes what fits. Returns false if some of it waits for space. */
  send(parts: readonly Buffer[]): boolean {
    let total = 0;
    for (const p of parts) total += p.length;
    const item: Pending = { parts, total, sent: 0, slot: -1, off: 0, hold: -1 };
    const last = parts[parts.length - 1];
    if (last && last.buffer === this.sab && this.reservations.has(last.byteOffset)) this.placeReserved(item, last);
    this.pending.push(item);
    return this.flush();
  }

  /** Zero-copy send: writes the header parts in front of the reserved payload. */
  private placeReserved(item: Pending, payload: Buffer): void {
    const slot = this.reservations.get(payload.byteOffset)!;
    this.reservations.delete(payload.byteOffset);
    const hdr = item.total - payload.length;
    if (hdr > HEADROOM) {
      item.hold = slot; // falls back to copying, out of the reserved slot itself
      return;
    }
    const base = slot * this.layout.slotSize;
    let at = base + HEADROOM - hdr;
    item.off = HEADROOM - hdr;
    for (let k = 0; k < item.parts.length - 1; k++) {
      const p = item.parts[k]!;
      p.copy(this.txSlots, at);
      at += p.length;
    }
    item.slot = slot;
  }

  /**
   * Writes queued frames while there is room, publishes the head and rings the peer if it
   * sleeps. Returns true when nothing is left queued. Throws ShmError on a corrupt tail.
   */
  flush(): boolean {
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      if (!this.writeOne(p)) break;
      if (p.hold >= 0) this.reservedSlot[p.hold] = 0;
      this.pending.shift();
    }
    this.publish();
    return this.pending.length === 0;
  }

  private publish(): void {
    if (this.txPublished === this.txHead) return;
    this.txPublished = this.txHead;
    Atomics.store(this.w, wHead(this.side), this.txHead | 0);
    if (Atomics.load(this.w, wConsSleep(this.side)) !== 0 && Atomics.compareExchange(this.w, wConsSleep(this.side), 1, 0) === 1) {
      this.ringPeer();
    }
  }

  /** Writes one frame (or as many fragments as fit); true when the frame is completely written. */
  private writeOne(p: Pending): boolean {
    const { slotSize } = this.layout;
    if (p.slot >= 0) {
      if (!this.writeSlotRecord(p.slot, p.off, p.total)) return false;
      this.reservedSlot[p.slot] = 0;
      this.stats.txSlotZeroCopy++;
      return true;
    }
    if (p.sent === 0) {
      if (p.total >= SLOT_MIN && p.total <= slotSize - HEADROOM && this.ringFree() >= 24) {
        const slot = this.freeSlot();
        if (slot >= 0) {
          let at = slot * slotSize + HEADROOM;
          for (const part of p.parts) {
            part.copy(this.txSlots, at);
            at += part.length;
          }
          if (!this.writeSlotRecord(slot, HEADROOM, p.total)) return false; // cannot happen: space checked
          this.stats.txSlotCopy++;
          return true;
        }
      }
      if (REC_HDR + p.total <= this.maxRecord) {
        const at = this.ringAlloc(align8(REC_HDR + p.total));
        if (at < 0) return false;
        let o = at + REC_HDR;
        for (const part of p.parts) {
          part.copy(this.tx, o);
          o += part.length;
        }
        this.tx.writeUInt32LE(p.total, at);
        this.tx.writeUInt32LE(REC_FRAME, at + 4);
        this.txHead = (this.txHead + align8(REC_HDR + p.total)) >>> 0;
        this.stats.txRing++;
        return true;
      }
    }
    // Fragments of at most maxRecord bytes, as many as fit now.
    while (p.sent < p.total) {
      const n = Math.min(p.total - p.sent, this.maxRecord - REC_HDR);
      const at = this.ringAlloc(align8(REC_HDR + n));
      if (at < 0) return false;
      copyRange(p.parts, p.sent, n, this.tx, at + REC_HDR);
      this.tx.writeUInt32LE(n, at);
      this.tx.writeUInt32LE(p.sent === 0 ? REC_FRAG_FIRST : REC_FRAG_MORE, at + 4);
      this.txHead = (this.txHead + align8(REC_HDR + n)) >>> 0;
      p.sent += n;
    }
    this.stats.txFragmented++;
    return true;
  }

  private freeSlot(): number {
    const { slotCount } = this.layout;
    for (let k = 0; k < slotCount; k++) {
      const i = (this.slotCursor + k) % slotCount;
      if (!this.reservedSlot[i] && Atomics.load(this.w, wSlots(this.side) + i) === 0) {
        this.slotCursor = (i + 1) % slotCount;
        return i;
      }
    }
    return -1;
  }

  private writeSlotRecord(slot: number, off: number, len: number): boolean {
    const at = this.ringAlloc(24);
    if (at < 0) return false;
    Atomics.store(this.w, wSlots(this.side) + slot, 1); // the consumer's until it releases
    this.tx.writeUInt32LE(12, at);
    this.tx.writeUInt32LE(REC_SLOT, at + 4);
    this.tx.writeUInt32LE(slot, at + 8);
    this.tx.writeUInt32LE(off, at + 12);
    this.tx.writeUInt32LE(len, at + 16);
    this.txHead = (this.txHead + 24) >>> 0;
    return true;
  }

  /** Free bytes in the tx ring, after checking the tail the peer published. */
  private ringFree(): number {
    const t = Atomics.load(this.w, wTail(this.side)) >>> 0;
    if (t !== this.txTailSeen) {
      const adv = (t - this.txTailSeen) >>> 0;
      if ((t & 7) !== 0 || adv > ((this.txPublished - this.txTailSeen) >>> 0)) {
        throw new ShmError('corrupt', `shm: peer's tail ${t} is outside the published range ${this.txTailSeen}..${this.txPublished}`);
      }
      this.txTailSeen = t;
    }
    return this.layout.ringSize - ((this.txHead - this.txTailSeen) >>> 0);
  }

  /** Position of `need` contiguous bytes at the head (writing a PAD record to wrap), or -1. */
  private ringAlloc(need: number): number {
    const free = this.ringFree();
    const idx = this.txHead & this.mask;
    const toEnd = this.layout.ringSize - idx;
    if (need <= toEnd) return free >= need ? idx : -1;
    if (free < toEnd + need) return -1;
    this.tx.writeUInt32LE(toEnd - REC_HDR, idx);
    this.tx.writeUInt32LE(REC_PAD, idx + 4);
    this.txHead = (this.txHead + toEnd) >>> 0;
    return 0;
  }

  // ---- receive ----------------------------------------------------------------------------

  /**
   * Consumes up to `maxFrames` frames, handing each to `sink`. Returns the number delivered.
   * Throws ShmError('corrupt') or FrameError on anything out of range; nothing has then been
   * read outside the records the head claims.
   */
  receive(sink: RxSink, maxFrames: number): number {
    const size = this.layout.ringSize;
    const head = Atomics.load(this.w, wHead(this.peer)) >>> 0;
    let avail = (head - this.rxTail) >>> 0;
    if (avail === 0) return 0;
    if (avail > size || (head & 7) !== 0) throw this.corrupt(`head ${head} with tail ${this.rxTail}`);
    let delivered = 0;
    const start = this.rxTail;
    while (avail > 0 && delivered < maxFrames && !sink.paused) {
      const idx = this.rxTail & this.mask;
      if (avail < REC_HDR) throw this.corrupt(`${avail} bytes at ${idx}, less than a record header`);
      const len = this.rx.readUInt32LE(idx);
      const info = this.rx.readUInt32LE(idx + 4);
      if (len > size - idx - REC_HDR) throw this.corrupt(`record at ${idx} of ${len} bytes runs past the ring end`);
      const rec = align8(REC_HDR + len);
      if (rec > avail) throw this.corrupt(`record at ${idx} of ${len} bytes, only ${avail} published`);
      const body = idx + REC_HDR;
      switch (info & 0xff) {
        case REC_PAD:
          if (idx + rec !== size) throw this.corrupt(`pad at ${idx} does not end at the ring end`);
          break;
        case REC_FRAME: {
          if (this.frag) throw this.corrupt('frame inside a fragmented frame');
          const skip = info >>> 8;
          if (skip > len) throw this.corrupt(`frame skip ${skip} > record length ${len}`);
          const flen = len - skip;
          this.checkSize(flen);
          const out = Buffer.allocUnsafe(flen);
          this.rx.copy(out, 0, body + skip, body + len);
          if (out.readUInt32LE(0) !== flen) throw this.corrupt(`frame size field ${out.readUInt32LE(0)} in a record of ${flen}`);
          this.stats.rxCopied++;
          this.advance(rec);
          sink.deliver(out, undefined);
          delivered++;
          avail -= rec;
          continue;
        }
        case REC_FRAG_FIRST: {
          if (this.frag) throw this.corrupt('second first fragment');
          if (len < 4) throw this.corrupt(`first fragment of ${len} bytes`);
          const total = this.rx.readUInt32LE(body);
          this.checkSize(total);
          if (len >= total) throw this.corrupt(`first fragment of ${len} bytes for a frame of ${total}`);
          this.frag = Buffer.allocUnsafe(total);
          this.rx.copy(this.frag, 0, body, body + len);
          this.frag.writeUInt32LE(total, 0); // what we checked, whatever the peer writes meanwhile
          this.fragFilled = len;
          break;
        }
        case REC_FRAG_MORE: {
          const f = this.frag;
          if (!f) throw this.corrupt('fragment without a first one');
          if (len === 0 || len > f.length - this.fragFilled) throw this.corrupt(`fragment of ${len} bytes overflows its frame`);
          this.rx.copy(f, this.fragFilled, body, body + len);
          this.fragFilled += len;
          if (this.fragFilled === f.length) {
            this.frag = null;
            this.stats.rxCopied++;
            this.advance(rec);
            sink.deliver(f, undefined);
            delivered++;
            avail -= rec;
            continue;
          }
          break;
        }
        case REC_SLOT: {
          if (this.frag) throw this.corrupt('slot frame inside a fragmented frame');
          if (len !== 12) throw this.corrupt(`slot descriptor of ${len} bytes`);
          const slot = this.rx.readUInt32LE(body);
          const off = this.rx.readUInt32LE(body + 4);
          const flen = this.rx.readUInt32LE(body + 8);
          const { slotCount, slotSize } = this.layout;
          if (slot >= slotCount) throw this.corrupt(`slot index ${slot} of ${slotCount}`);
          if (off > slotSize || flen > slotSize - off) throw this.corrupt(`slot ${slot} range ${off}+${flen} outside ${slotSize}`);
          if (this.held[slot]) throw this.corrupt(`slot ${slot} reused while held`);
          this.checkSize(flen);
          const at = slot * slotSize + off;
          this.advance(rec);
          avail -= rec;
          delivered++;
          if (sink.zeroCopy) {
            const view = this.rxSlots.subarray(at, at + flen);
            if (view.readUInt32LE(0) !== flen) throw this.corrupt(`frame size field ${view.readUInt32LE(0)} in slot frame of ${flen}`);
            this.held[slot] = 1;
            this.stats.rxViews++;
            sink.deliver(view, this.releaser(slot));
          } else {
            const out = Buffer.allocUnsafe(flen);
            this.rxSlots.copy(out, 0, at, at + flen);
            this.releaseSlot(slot);
            if (out.readUInt32LE(0) !== flen) throw this.corrupt(`frame size field ${out.readUInt32LE(0)} in slot frame of ${flen}`);
            this.stats.rxCopied++;
            sink.deliver(out, undefined);
          }
          continue;
        }
        default:
          throw this.corrupt(`record kind ${info & 0xff} at ${idx}`);
      }
      this.advance(rec);
      avail -= rec;
    }
    if (this.rxTail !== start) this.publishTail();
    return delivered;
  }

  private advance(rec: number): void {
    this.rxTail = (this.rxTail + rec) >>> 0;
  }

  private publishTail(): void {
    Atomics.store(this.w, wTail(this.peer), this.rxTail | 0);
    if (Atomics.load(this.w, wProdSleep(this.peer)) !== 0 && Atomics.compareExchange(this.w, wProdSleep(this.peer), 1, 0) === 1) {
      this.ringPeer();
    }
  }

  private releaser(slot: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.releaseSlot(slot);
    };
  }

  private releaseSlot(slot: number): void {
    this.held[slot] = 0;
    Atomics.store(this.w, wSlots(this.peer) + slot, 0);
  }

  private checkSize(n: number): void {
    if (n < HEADER_SIZE || n > this.maxFrame) throw new FrameError(`shm: frame size ${n} outside ${HEADER_SIZE}..${this.maxFrame}`);
  }

  private corrupt(what: string): ShmError {
    return new ShmError('corrupt', `shm: corrupt ring from peer: ${what}`);
  }
}

/** Copies `n` bytes starting at `from` of the concatenation of `parts` into `dst` at `at`. */
function copyRange(parts: readonly Buffer[], from: number, n: number, dst: Buffer, at: number): void {
  let skip = from;
  for (const p of parts) {
    if (n === 0) return;
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    const take = Math.min(p.length - skip, n);
    p.copy(dst, at, skip, skip + take);
    at += take;
    n -= take;
    skip = 0;
  }
}

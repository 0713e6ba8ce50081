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
import { Buffer } from 'node:buffer'; // not the global: in Node 20 that is a getter on globalThis, read on every use
import { FrameError, HEADER_SIZE, get32 } from '@prose/protocol';
import { DEFAULT_MAX_FRAME, copyFrame, u8Set } from '@prose/transport';
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
  /** The tx ring as words: record headers sit at 8-aligned positions. */
  private readonly tx32: Uint32Array;
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
  private readonly rx32: Uint32Array;
  private readonly rxSlots: Buffer;
  /** Where rx and rxSlots begin in the segment (copyFrame takes the segment and an offset). */
  private readonly rxAt: number;
  private readonly rxSlotsAt: number;
  private rxTail = 0;
  /** The sleeping flags this side has set (armSleep) and not cleared. */
  private armedRx = false;
  private armedTx = false;
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
    this.rxAt = ringOffset(layout, this.peer);
    this.rx = Buffer.from(sab, this.rxAt, layout.ringSize);
    this.tx32 = new Uint32Array(sab, ringOffset(layout, side), layout.ringSize >>> 2);
    this.rx32 = new Uint32Array(sab, ringOffset(layout, this.peer), layout.ringSize >>> 2);
    const slotBytes = layout.slotCount * layout.slotSize;
    this.txSlots = Buffer.from(sab, slotsOffset(layout, side), slotBytes);
    this.rxSlotsAt = slotsOffset(layout, this.peer);
    this.rxSlots = Buffer.from(sab, this.rxSlotsAt, slotBytes);
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

  /**
   * Payload slots in use now: `held`, frames received in place whose release has not been
   * called; `lent`, slots we sent that the peer has not released yet; `reserved`, slots given
   * out by `reserve` and neither sent nor given back.
   */
  slotUse(): { held: number; lent: number; reserved: number } {
    let held = 0, lent = 0, reserved = 0;
    for (let i = 0; i < this.layout.slotCount; i++) {
      held += this.held[i]!;
      reserved += this.reservedSlot[i]!;
      if (Atomics.load(this.w, wSlots(this.side) + i) !== 0) lent++;
    }
    return { held, lent, reserved };
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
    this.armedRx = rx;
    this.armedTx = tx;
    const busy = (rx && this.rxReady()) || (tx && this.txSpaceChanged()) || this.peerClosed();
    if (busy) this.disarmSleep();
    return !busy;
  }

  /** Clears the flags `armSleep` set (only those: each store is a full barrier). */
  disarmSleep(): void {
    if (this.armedRx) Atomics.store(this.w, wConsSleep(this.peer), 0);
    if (this.armedTx) Atomics.store(this.w, wProdSleep(this.side), 0);
    this.armedRx = this.armedTx = false;
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
    for (let k = 0; k < parts.length; k++) total += parts[k]!.length;
    const last = parts[parts.length - 1];
    // (`.buffer` is a call into V8's runtime: asked only when something is reserved)
    const reserved = last !== undefined && this.reservations.size > 0 && last.buffer === this.sab && this.reservations.has(last.byteOffset);
    if (!reserved && total < SLOT_MIN && this.pending.length === 0 && this.writeRecord(parts, total, payloadLead(parts, total))) {
      this.publish(); // the common small frame: straight into the ring, nothing queued
      return true;
    }
    const item: Pending = { parts, total, sent: 0, slot: -1, off: 0, hold: -1 };
    if (reserved) this.placeReserved(item, last);
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
    for (let k = 0; k < item.parts.length - 1; k++) at = put(item.parts[k]!, this.txSlots, at);
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
      const lead = payloadLead(p.parts, p.total);
      if (p.total >= SLOT_MIN && lead + p.total <= slotSize - HEADROOM && this.ringFree() >= 24) {
        const slot = this.freeSlot();
        if (slot >= 0) {
          const off = HEADROOM + lead;
          let at = slot * slotSize + off;
          for (const part of p.parts) at = put(part, this.txSlots, at);
          if (!this.writeSlotRecord(slot, off, p.total)) return false; // cannot happen: space checked
          this.stats.txSlotCopy++;
          return true;
        }
      }
      if (REC_HDR + lead + p.total <= this.maxRecord) return this.writeRecord(p.parts, p.total, lead);
    }
    // Fragments of at most maxRecord bytes, as many as fit now. The first starts `lead` bytes
    // in and ends on a word, so every later piece of the payload is word-aligned at both ends
    // of its copy (see payloadLead); the receiver mirrors the lead in its buffer.
    const cap = this.maxRecord - REC_HDR - 8;
    while (p.sent < p.total) {
      const lead = p.sent === 0 ? payloadLead(p.parts, p.total) : 0;
      const n = Math.min(p.total - p.sent, cap - lead);
      const rec = align8(REC_HDR + lead + n);
      const at = this.ringAlloc(rec);
      if (at < 0) return false;
      copyRange(p.parts, p.sent, n, this.tx, at + REC_HDR + lead);
      this.tx32[at >>> 2] = lead + n;
      this.tx32[(at >>> 2) + 1] = p.sent === 0 ? REC_FRAG_FIRST | (lead << 8) : REC_FRAG_MORE;
      this.txHead = (this.txHead + rec) >>> 0;
      p.sent += n;
    }
    this.stats.txFragmented++;
    return true;
  }

  /** Writes a whole frame as one FRAME record, `lead` bytes in; false if the ring has no room (or the record would be too big). */
  private writeRecord(parts: readonly Buffer[], total: number, lead: number): boolean {
    const need = REC_HDR + lead + total;
    if (need > this.maxRecord) return false;
    const rec = align8(need);
    const at = this.ringAlloc(rec);
    if (at < 0) return false;
    let o = at + REC_HDR + lead;
    for (let k = 0; k < parts.length; k++) o = put(parts[k]!, this.tx, o);
    const i = at >>> 2;
    this.tx32[i] = lead + total;
    this.tx32[i + 1] = REC_FRAME | (lead << 8);
    this.txHead = (this.txHead + rec) >>> 0;
    this.stats.txRing++;
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
    const i = at >>> 2;
    this.tx32[i] = 12;
    this.tx32[i + 1] = REC_SLOT;
    this.tx32[i + 2] = slot;
    this.tx32[i + 3] = off;
    this.tx32[i + 4] = len;
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
    this.tx32[idx >>> 2] = toEnd - REC_HDR;
    this.tx32[(idx >>> 2) + 1] = REC_PAD;
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
      const len = this.rx32[idx >>> 2]!;
      const info = this.rx32[(idx >>> 2) + 1]!;
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
          const out = copyFrame(this.sab, this.rxAt + body + skip, flen);
          if (get32(out, 0) !== flen) throw this.corrupt(`frame size field ${get32(out, 0)} in a record of ${flen}`);
          this.stats.rxCopied++;
          this.advance(rec);
          sink.deliver(out, undefined);
          delivered++;
          avail -= rec;
          continue;
        }
        case REC_FRAG_FIRST: {
          if (this.frag) throw this.corrupt('second first fragment');
          const skip = info >>> 8;
          if (skip > 7 || len < skip + 4) throw this.corrupt(`first fragment of ${len} bytes, skip ${skip}`);
          const flen = len - skip;
          const total = this.rx.readUInt32LE(body + skip);
          this.checkSize(total);
          if (flen >= total) throw this.corrupt(`first fragment of ${flen} bytes for a frame of ${total}`);
          // at the ring's address mod 8, so the pieces copy word by word (see payloadLead)
          const phase = (this.rx.byteOffset + body + skip) & 7;
          this.frag = phase === 0 ? Buffer.allocUnsafe(total) : Buffer.allocUnsafe(total + 8).subarray(phase, phase + total);
          this.rx.copy(this.frag, 0, body + skip, body + len);
          this.frag.writeUInt32LE(total, 0); // what we checked, whatever the peer writes meanwhile
          this.fragFilled = flen;
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
          const slot = this.rx32[body >>> 2]!;
          const off = this.rx32[(body >>> 2) + 1]!;
          const flen = this.rx32[(body >>> 2) + 2]!;
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
            if (get32(view, 0) !== flen) throw this.corrupt(`frame size field ${get32(view, 0)} in slot frame of ${flen}`);
            this.held[slot] = 1;
            this.stats.rxViews++;
            sink.deliver(view, this.releaser(slot));
          } else {
            const out = copyFrame(this.sab, this.rxSlotsAt + at, flen);
            this.releaseSlot(slot);
            if (get32(out, 0) !== flen) throw this.corrupt(`frame size field ${get32(out, 0)} in slot frame of ${flen}`);
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

/**
 * Bytes to leave in front of a frame so that its payload (the last part, when it follows a
 * header of at most HEADROOM bytes) lies at the same address mod 8 as where it comes from.
 * V8 copies to and from SharedArrayBuffer memory a word at a time only when source and
 * destination are equally aligned, else byte by byte — four times slower here (a 1 MiB
 * payload behind a 23-byte Twrite header: 280 µs instead of 65).
 */
function payloadLead(parts: readonly Buffer[], total: number): number {
  const n = parts.length;
  if (n < 2) return 0;
  const last = parts[n - 1]!;
  const hdr = total - last.length;
  return hdr > HEADROOM ? 0 : ((last.byteOffset & 7) - hdr) & 7;
}

/** Copies `src` into `dst` at `at` (the caller checked that it fits); returns the position after it. */
function put(src: Buffer, dst: Buffer, at: number): number {
  u8Set.call(dst, src, at);
  return at + src.length;
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

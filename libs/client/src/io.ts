/**
 * Bulk I/O over a fid: whole-file reads and writes and Node streams, each splitting at the fid's
 * ioSize (iounit, or msize-IOHDRSZ) and keeping a window of requests in flight so that a round
 * trip is not paid per piece.
 *
 * Reads are issued at successive offsets. A short read (fewer bytes than asked, but not none)
 * means the reads already in flight asked at offsets past a gap, so their answers are dropped
 * and reading resumes right after the short one; an empty read is end of file. Writes that come
 * back short are re-sent for the remainder; a write of 0 bytes is an error (EIO).
 */
import { Readable, Writable } from 'node:stream';
import { Errno, NinepError } from '@prose/protocol';
import type { Fid } from './fid.js';

/** Requests kept in flight by default. */
export const DEFAULT_WINDOW = 4;

const noop = (): void => {};

/** A stream's _construct: waits for a fid still being opened, then calls back (with its error, if any). */
function resolveFid(source: Fid | Promise<Fid>, set: (f: Fid) => void, callback: (err?: Error | null) => void): void {
  if (!(source instanceof Promise)) return callback();
  source.then((f) => {
    set(f);
    callback();
  }, callback);
}

function windowOf(n: number | undefined): number {
  if (n === undefined) return DEFAULT_WINDOW;
  if (!Number.isInteger(n) || n < 1) throw new NinepError(`window ${n} is not a positive integer`, Errno.EINVAL);
  return n;
}

export interface ReadAllOptions {
  /** Where to start (default 0). */
  offset?: number;
  /** Read at most this many bytes (default: to end of file). */
  length?: number;
  /** Requests in flight (default 4). */
  window?: number;
  signal?: AbortSignal;
}

export interface WriteAllOptions {
  /** Where to write (default 0). */
  offset?: number;
  /** Requests in flight (default 4). */
  window?: number;
  signal?: AbortSignal;
}

/**
 * Reads an open fid from `offset` to end of file (or `length` bytes). One chunk comes back as
 * the reply's own view; several are joined once at the end.
 */
export async function readAll(fid: Fid, opts: ReadAllOptions = {}): Promise<Buffer> {
  const window = windowOf(opts.window);
  const start = opts.offset ?? 0;
  const end = opts.length === undefined ? Infinity : start + opts.length;
  const size = fid.ioSize;
  const signal = opts.signal;
  const chunks: Buffer[] = [];
  const flight: Array<Promise<Buffer>> = [];
  const asked: number[] = [];
  let total = 0;
  let next = start;
  for (;;) {
    while (flight.length < window && next < end) {
      const n = Math.min(size, end - next);
      const p = fid.read(next, n, { signal });
      p.catch(noop);
      flight.push(p);
      asked.push(n);
      next += n;
    }
    if (flight.length === 0) break;
    const want = asked.shift()!;
    const data = await flight.shift()!;
    if (data.length === 0) break;
    chunks.push(data);
    total += data.length;
    if (data.length < want) {
      flight.length = 0;
      asked.length = 0;
      next = start + total;
    }
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** Writes all of `data` to an open fid at `offset` (views of `data`, never copies). Resolves with its length. */
export async function writeAll(fid: Fid, data: Buffer, opts: WriteAllOptions = {}): Promise<number> {
  const window = windowOf(opts.window);
  const base = opts.offset ?? 0;
  const size = fid.ioSize;
  const signal = opts.signal;
  const flight: Array<{ p: Promise<number>; at: number; buf: Buffer }> = [];
  const retry: Array<{ at: number; buf: Buffer }> = [];
  let pos = 0;
  for (;;) {
    while (flight.length < window) {
      let piece = retry.pop();
      if (!piece && pos < data.length) {
        const n = Math.min(size, data.length - pos);
        piece = { at: base + pos, buf: data.subarray(pos, pos + n) };
        pos += n;
      }
      if (!piece) break;
      const p = fid.write(piece.at, piece.buf, { signal });
      p.catch(noop);
      flight.push({ p, at: piece.at, buf: piece.buf });
    }
    const w = flight.shift();
    if (!w) return data.length;
    const n = await w.p;
    if (n < w.buf.length) {
      if (n === 0) throw new NinepError(`short write: 0 of ${w.buf.length} bytes at ${w.at} (${fid})`, Errno.EIO);
      retry.push({ at: w.at + n, buf: w.buf.subarray(n) });
    }
  }
}

export interface ReadStreamOptions {
  /** First byte (default 0). */
  start?: number;
  /** Last byte, inclusive (default: to end of file), as in fs.createReadStream. */
  end?: number;
  /** Reads in flight (default 4). */
  window?: number;
  highWaterMark?: number;
  /** Clunk the fid when the stream ends or is destroyed. */
  autoClunk?: boolean;
}

interface ReadSlot {
  gen: number;
  offset: number;
  count: number;
  data: Buffer | undefined;
}

/**
 * A Readable over an open fid. Reads are issued only while the consumer wants data (`_read`),
 * at most `window` at a time, and pushed in offset order whatever order the replies come in.
 */
export class FidReadStream extends Readable {
  private fid: Fid | undefined;
  private readonly source: Fid | Promise<Fid>;
  private next: number;
  private readonly last: number;
  private readonly window: number;
  private readonly autoClunk: boolean;
  private slots: ReadSlot[] = [];
  private gen = 0;
  private wanting = false;
  private done = false;

  constructor(source: Fid | Promise<Fid>, opts: ReadStreamOptions = {}) {
    super({ highWaterMark: opts.highWaterMark });
    this.source = source;
    this.next = opts.start ?? 0;
    this.last = opts.end ?? Infinity;
    this.window = windowOf(opts.window);
    this.autoClunk = opts.autoClunk ?? false;
    if (!(source instanceof Promise)) this.fid = source;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    resolveFid(this.source, (f) => (this.fid = f), callback);
  }

  override _read(): void {
    this.wanting = true;
    this.pump();
  }

  private pump(): void {
    const fid = this.fid!;
    while (this.wanting && !this.done && this.slots.length < this.window && this.next <= this.last) {
      const count = Math.min(fid.ioSize, this.last - this.next + 1);
      const slot: ReadSlot = { gen: this.gen, offset: this.next, count, data: undefined };
      this.slots.push(slot);
      this.next += count;
      fid.read(slot.offset, count).then(
        (data) => this.arrived(slot, data),
        (err: Error) => {
          if (slot.gen === this.gen) this.destroy(err);
        },
      );
    }
    if (!this.done && this.slots.length === 0 && this.next > this.last) this.finish();
  }

  private arrived(slot: ReadSlot, data: Buffer): void {
    if (slot.gen !== this.gen || this.destroyed) return;
    slot.data = data;
    while (this.slots.length > 0 && this.slots[0]!.data !== undefined) {
      const s = this.slots.shift()!;
      const d = s.data!;
      if (d.length === 0) {
        this.finish();
        return;
      }
      if (d.length < s.count) {
        // Short read: what is in flight was asked past a gap; resume after this one.
        this.gen++;
        this.slots = [];
        this.next = s.offset + d.length;
      }
      if (!this.push(d)) this.wanting = false;
    }
    this.pump();
  }

  private finish(): void {
    this.done = true;
    this.gen++;
    this.slots = [];
    this.push(null);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.done = true;
    this.gen++;
    this.slots = [];
    if (!this.autoClunk) return callback(err);
    const clunk = (f: Fid) => f.clunk().then(() => callback(err), (e: Error) => callback(err ?? e));
    if (this.fid) clunk(this.fid);
    else (this.source as Promise<Fid>).then(clunk, () => callback(err));
  }
}

export interface WriteStreamOptions {
  /** Where the first byte goes (default 0). */
  start?: number;
  /** Writes in flight (default 4). */
  window?: number;
  highWaterMark?: number;
  /** Clunk the fid when the stream finishes or is destroyed. */
  autoClunk?: boolean;
}

/**
 * A Writable over an open fid. Chunks are cut into ioSize pieces (small chunks buffered
 * together are joined into one piece), written at successive offsets with at most `window` in
 * flight; the stream's callback waits while the window is full, which is its backpressure.
 * 'finish' comes after every write has been answered.
 */
export class FidWriteStream extends Writable {
  private fid: Fid | undefined;
  private readonly source: Fid | Promise<Fid>;
  private pos: number;
  private readonly window: number;
  private readonly autoClunk: boolean;
  private readonly pieces: Array<{ at: number; buf: Buffer }> = [];
  private inFlight = 0;
  private waiting: ((err?: Error | null) => void) | undefined;
  private finalCb: ((err?: Error | null) => void) | undefined;
  private failure: Error | undefined;
  /** Bytes acknowledged by the server. */
  bytesWritten = 0;

  constructor(source: Fid | Promise<Fid>, opts: WriteStreamOptions = {}) {
    super({ highWaterMark: opts.highWaterMark });
    this.source = source;
    this.pos = opts.start ?? 0;
    this.window = windowOf(opts.window);
    this.autoClunk = opts.autoClunk ?? false;
    if (!(source instanceof Promise)) this.fid = source;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    resolveFid(this.source, (f) => (this.fid = f), callback);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.cut([chunk]);
    this.afterQueue(callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    this.cut(chunks.map((c) => c.chunk));
    this.afterQueue(callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.failure) return callback(this.failure);
    if (this.inFlight === 0 && this.pieces.length === 0) return callback();
    this.finalCb = callback;
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.pieces.length = 0;
    if (!this.autoClunk) return callback(err);
    const clunk = (f: Fid) => f.clunk().then(() => callback(err), (e: Error) => callback(err ?? e));
    if (this.fid) clunk(this.fid);
    else (this.source as Promise<Fid>).then(clunk, () => callback(err));
  }

  /** Cuts buffers into pieces of at most ioSize: large ones by views, runs of small ones joined. */
  private cut(bufs: Buffer[]): void {
    const size = this.fid!.ioSize;
    let acc: Buffer[] = [];
    let accLen = 0;
    const flush = () => {
      if (accLen === 0) return;
      const buf = acc.length === 1 ? acc[0]! : Buffer.concat(acc, accLen);
      this.pieces.push({ at: this.pos, buf });
      this.pos += accLen;
      acc = [];
      accLen = 0;
    };
    for (let b of bufs) {
      while (b.length > 0) {
        if (accLen === 0 && b.length >= size) {
          this.pieces.push({ at: this.pos, buf: b.subarray(0, size) });
          this.pos += size;
          b = b.subarray(size);
          continue;
        }
        const take = Math.min(size - accLen, b.length);
        acc.push(b.subarray(0, take));
        accLen += take;
        b = b.subarray(take);
        if (accLen === size) flush();
      }
    }
    flush();
  }

  private afterQueue(callback: (err?: Error | null) => void): void {
    this.pump();
    if (this.failure) return callback(this.failure);
    if (this.pieces.length === 0 && this.inFlight < this.window) callback();
    else this.waiting = callback;
  }

  private pump(): void {
    const fid = this.fid!;
    while (this.inFlight < this.window && this.pieces.length > 0 && !this.failure) {
      const piece = this.pieces.shift()!;
      this.inFlight++;
      fid.write(piece.at, piece.buf).then(
        (n) => this.written(piece, n),
        (err: Error) => this.failed(err),
      );
    }
  }

  private written(piece: { at: number; buf: Buffer }, n: number): void {
    this.inFlight--;
    if (n === 0 && piece.buf.length > 0) {
      this.failed(new NinepError(`short write: 0 of ${piece.buf.length} bytes at ${piece.at} (${this.fid})`, Errno.EIO), false);
      return;
    }
    this.bytesWritten += n;
    if (n < piece.buf.length) this.pieces.unshift({ at: piece.at + n, buf: piece.buf.subarray(n) });
    this.pump();
    this.settle();
  }

  private failed(err: Error, counted = true): void {
    if (counted) this.inFlight--;
    if (!this.failure) this.failure = err;
    this.settle();
  }

  private settle(): void {
    const w = this.waiting;
    if (w && (this.failure || (this.pieces.length === 0 && this.inFlight < this.window))) {
      this.waiting = undefined;
      w(this.failure);
    }
    const f = this.finalCb;
    if (f && (this.failure ? this.inFlight === 0 : this.inFlight === 0 && this.pieces.length === 0)) {
      this.finalCb = undefined;
      f(this.failure);
    }
    if (this.failure && !w && !f && this.inFlight === 0 && !this.destroyed) this.destroy(this.failure);
  }
}

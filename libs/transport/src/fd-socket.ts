/**
 * A connected TCP or Unix socket that this process reads and writes itself, through
 * @prose/posix's socket calls (one system call each) and a readiness watch in the event loop,
 * instead of Node's stream machinery. It offers the part of net.Socket that SocketConn uses, so
 * the Conn on top is the same code either way.
 *
 * Why: a request/reply server pays Node's socket layer on every message — a JS callback per
 * read through StreamBase, a WriteWrap object, async-hook scopes and Writable's bookkeeping per
 * write — and on a CPU shared with its peer that code runs cold each time. Measured on a 2-vCPU
 * VM, both ends on one CPU, an 11-byte reply to a 30-byte request from a C client to a Node echo
 * server over this package (no 9P): 8.4 µs a round trip with FdSocket, 8.8–8.9 through
 * net.Socket (C to C: 5.5–5.9); the 9P null server's CPU per round trip 6.2–6.8 µs against
 * 7.3–7.5 (core suite, README).
 *
 * The descriptor is a duplicate of the one a net.Socket connected or accepted (Node resolves
 * names, connects and accepts as ever); that socket stays open, paused and idle, so a listening
 * server still counts the connection, and is destroyed with this one.
 *
 * Semantics kept from net.Socket: writes go out in order, at once when the kernel takes them,
 * else queued until the descriptor is writable ('drain' once the queue empties after it went
 * above the high-water mark); `end()` shuts down the sending side once the queue is written;
 * the end of the peer's stream is 'end'; when both directions are done, or on `destroy()`,
 * 'close'; a failed read or write is 'error' then 'close', always on a later tick. Write
 * callbacks run on a later tick too. Reads stop while paused (the peer then meets TCP's own
 * backpressure).
 *
 * Volatile parts (volatile.ts: file mappings) are read by the kernel's write only: what of one
 * the kernel does not take at once is replaced by its safe copy before it waits in the queue,
 * and a write refused with EFAULT (a page gone from under a mapping) is retried with the copies.
 *
 * Big sends in pieces, on one CPU: where this process can only run on one CPU, its peer, when
 * it shares that CPU, reads only once the sender stops. A megabyte sent in one write is then
 * read long after it was copied into the socket, out of cache, and the reader's copy costs
 * twice; in pieces of SEND_PIECE with the CPU yielded after each, the reader takes every piece
 * while it is in cache. A storage service and a client reading 256 MiB in 1 MiB replies, 8 in
 * flight, both on one CPU of a 2-vCPU VM, 20 rounds each way alternated: 154 ms a 256 MiB
 * (median; the service's CPU 83 ms, the client's 68) → 100 ms (47 and 55); 128 KiB pieces
 * 100 ms, 512 KiB 110. A yield with nothing else to run returns at once.
 */
import { availableParallelism } from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { Socket } from 'node:net';
import { WATCH_READABLE, WATCH_WRITABLE, WRITEV_MAX, type FdWatch, type SockIo } from '@prose/posix';
import type { SlabReader } from './slab-reader.js';
import { volatileCopier } from './volatile.js';

const nextTick = process.nextTick;
const EAGAIN = -11;
const EFAULT = -14;

/**
 * Sends bigger than this go out in pieces of this many bytes with the CPU yielded after each
 * (sched_yield), where this process can run on one CPU only; 0 elsewhere. PROSE_SEND_PIECE
 * (bytes, 0 for never) chooses instead. See the module doc.
 */
export const SEND_PIECE = sendPiece(process.env.PROSE_SEND_PIECE, availableParallelism());

/** SEND_PIECE from the variable's value (ignored unless a whole number ≥ 0) and the CPUs this process may use. */
export function sendPiece(env: string | undefined, cpus: number): number {
  const n = env !== undefined && env !== '' ? Number(env) : NaN;
  if (Number.isInteger(n) && n >= 0) return n;
  return cpus === 1 ? 256 * 1024 : 0;
}
/** At most this many reads per readiness callback (as libuv reads a stream), then other work gets the loop. */
const READS_PER_WAKE = 32;

/** Written parts at the queue's front are dropped from its array once there are this many (and they are half of it). */
const COMPACT_AT = 1024;

type Listener = (arg?: unknown) => void;

/** A Node-style system error: `${syscall} ${code}` with code, errno and syscall. */
function sysError(negErrno: number, syscall: string): Error {
  let code: string;
  try {
    code = getSystemErrorName(negErrno);
  } catch {
    code = `E${-negErrno}`;
  }
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: negErrno, syscall });
}

export class FdSocket {
  /** As net.Socket's: `write` returns false at or above it, and 'drain' follows. */
  readonly writableHighWaterMark: number;
  /** Bytes queued, not yet taken by the kernel. */
  writableLength = 0;
  /** A write went at or above the high-water mark and 'drain' has not been emitted since. */
  writableNeedDrain = false;
  private readonly watch: FdWatch;
  private readonly listeners = new Map<string, Listener[]>();
  /** Parts not yet written (from `head`), with their callbacks. */
  private queue: Buffer[] = [];
  private callbacks: Array<(() => void) | undefined> = [];
  private head = 0;
  private corked = 0;
  private paused = true;
  private readEnded = false;
  private ending = false;
  private writeShut = false;
  private destroyed = false;
  /** A write failed: nothing more is sent; the destroy follows on a later tick. */
  private broken = false;
  /** What the watch is asked for now (WATCH_* bits). */
  private watching = 0;
  /** A volatile part may be in the queue (see `settleVolatile`). */
  private volatileQueued = false;

  /**
   * Takes over `fd` (a duplicate of `keep`'s descriptor: this object closes it) and reads into
   * `onread`'s buffers, as net.Socket does with that option. Starts paused.
   */
  constructor(
    private readonly io: SockIo,
    private readonly fd: number,
    private readonly onread: SlabReader['onread'],
    private readonly keep: Socket,
    /** Sends above this many bytes go in pieces, yielding between them (0: never; see SEND_PIECE). */
    private readonly piece = SEND_PIECE,
  ) {
    this.writableHighWaterMark = keep.writableHighWaterMark;
    keep.on('error', () => {}); // idle from now on; what goes wrong shows on our descriptor
    const w = io.watchFd(fd, 0, (status, events) => this.ready(status, events));
    if (typeof w === 'number') throw sysError(w, 'uv_poll');
    this.watch = w;
  }

  on(event: 'drain' | 'error' | 'close' | 'end', fn: Listener): this {
    const l = this.listeners.get(event);
    if (l === undefined) this.listeners.set(event, [fn]);
    else l.push(fn);
    return this;
  }

  pause(): this {
    if (!this.paused) {
      this.paused = true;
      this.rewatch();
    }
    return this;
  }

  resume(): this {
    if (this.paused) {
      this.paused = false;
      this.rewatch();
    }
    return this;
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked > 0 && --this.corked === 0 && this.queue.length > this.head) this.flushQueue();
  }

  /** Sends `buf` (at once if nothing is queued and the kernel takes it); `cb` runs on a later tick once it is written. */
  write(buf: Buffer, cb?: () => void): boolean {
    if (this.destroyed || this.ending || this.broken) return false;
    if (this.corked === 0 && this.queue.length === this.head) {
      if (this.piece > 0 && buf.length > this.piece) {
        this.enqueue(buf, cb);
        this.flushQueue(); // in pieces
        return this.writableLength < this.writableHighWaterMark;
      }
      let n = buf.length === 0 ? 0 : this.io.sockWrite(this.fd, buf);
      if (n === buf.length) {
        if (cb !== undefined) nextTick(cb);
        return true;
      }
      if (n === EFAULT && volatileCopier(buf) !== undefined) n = 0; // sent from its copy, below
      if (n < 0 && n !== EAGAIN) {
        this.failLater(n, 'write');
        return false;
      }
      this.enqueue(n > 0 ? buf.subarray(n) : buf, cb);
      this.settleVolatile();
      this.rewatch();
    } else {
      this.enqueue(buf, cb);
      if (this.corked === 0) this.settleVolatile(); // waits behind others: not read from memory that may go
    }
    return this.writableLength < this.writableHighWaterMark;
  }

  /** Shuts down the sending side once everything queued is written; reading goes on until the peer's end. */
  end(): this {
    if (this.ending || this.destroyed) return this;
    this.ending = true;
    if (this.queue.length === this.head) this.shutWrite();
    return this;
  }

  /** Closes at once: the queue is dropped; 'error' (when `err`) then 'close' follow on a later tick. */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.queue = [];
    this.callbacks = [];
    this.head = 0;
    this.writableLength = 0;
    this.io.watchClose(this.watch);
    this.keep.destroy();
    nextTick(() => {
      if (err !== undefined) this.emit('error', err);
      this.emit('close', err !== undefined);
    });
    return this;
  }

  private emit(event: string, arg?: unknown): void {
    const l = this.listeners.get(event);
    if (l === undefined) return;
    for (let i = 0; i < l.length; i++) l[i]!(arg);
  }

  private enqueue(buf: Buffer, cb: (() => void) | undefined): void {
    if (buf.length === 0) {
      // Nothing to write (a queued empty part would be offered to the kernel for ever).
      if (cb !== undefined) nextTick(cb);
      return;
    }
    if (!this.volatileQueued && volatileCopier(buf) !== undefined) this.volatileQueued = true;
    this.queue.push(buf);
    this.callbacks.push(cb);
    this.writableLength += buf.length;
    if (this.writableLength >= this.writableHighWaterMark) this.writableNeedDrain = true;
  }

  /** Asks the watch for what is wanted now: reading unless paused or ended, writing while queued. */
  private rewatch(): void {
    if (this.destroyed) return;
    const want = (this.paused || this.readEnded ? 0 : WATCH_READABLE) | (this.queue.length > this.head ? WATCH_WRITABLE : 0);
    if (want === this.watching) return;
    this.watching = want;
    const r = this.io.watchSet(this.watch, want);
    if (r < 0) this.failLater(r, 'uv_poll');
  }

  private ready(status: number, events: number): void {
    if (this.destroyed) return;
    if (status < 0) {
      // libuv reports a socket error (EPOLLERR) as EBADF and stops watching: say which it is.
      const pending = this.io.sockError(this.fd);
      this.destroy(pending < 0 ? sysError(pending, 'read') : sysError(status, 'uv_poll'));
      return;
    }
    if ((events & WATCH_WRITABLE) !== 0) this.flushQueue();
    if ((events & WATCH_READABLE) !== 0) this.readSome();
  }

  private readSome(): void {
    const onread = this.onread;
    for (let i = 0; i < READS_PER_WAKE && !this.paused && !this.destroyed && !this.readEnded; i++) {
      const b = onread.buffer();
      const n = this.io.sockRead(this.fd, b);
      if (n > 0) {
        onread.callback(n);
        if (n < b.length) return;
      } else if (n === 0) {
        this.readEnded = true;
        this.rewatch();
        this.emit('end');
        if (this.writeShut) this.destroy();
        return;
      } else if (n === EAGAIN) {
        return;
      } else {
        this.destroy(sysError(n, 'read'));
        return;
      }
    }
  }

  /** Writes what is queued, as much as the kernel takes now (in pieces, yielding between them: see SEND_PIECE). */
  private flushQueue(): void {
    const io = this.io;
    while (!this.destroyed && this.queue.length > this.head) {
      const q = this.queue;
      const count = Math.min(q.length - this.head, WRITEV_MAX);
      let n: number;
      let piece = -1; // the bytes offered, when a piece
      if (this.piece > 0 && this.writableLength > this.piece) {
        [n, piece] = this.writePiece(count);
      } else {
        n = count === 1 ? io.sockWrite(this.fd, q[this.head]!) : io.sockWritev(this.fd, q, this.head, count);
      }
      if (n === EAGAIN) break;
      if (n === EFAULT && this.settleVolatile()) continue; // a mapped page went away: send the copies
      if (n < 0) {
        this.destroy(sysError(n, 'write'));
        return;
      }
      this.consume(n);
      if (this.queue.length > this.head) {
        if (n === piece) {
          io.schedYield(); // a peer on this CPU reads the piece now, while it is in cache
          continue;
        }
        break; // the kernel took less than offered: wait for room
      }
    }
    if (this.destroyed) return;
    this.settleVolatile();
    if (this.destroyed) return;
    if (this.queue.length === this.head) {
      this.volatileQueued = false;
      this.queue = [];
      this.callbacks = [];
      this.head = 0;
      if (this.ending && !this.writeShut) this.shutWrite();
      if (this.writableNeedDrain) {
        this.writableNeedDrain = false;
        nextTick(() => {
          if (!this.destroyed) this.emit('drain');
        });
      }
    }
    this.rewatch();
  }

  /** Writes at most `piece` bytes of the queue's first `count` parts: what the kernel took (or −errno), and what was offered. */
  private writePiece(count: number): [number, number] {
    const q = this.queue;
    const parts: Buffer[] = [];
    let left = this.piece;
    for (let i = this.head; i < this.head + count && left > 0; i++) {
      const b = q[i]!;
      const v = b.length <= left ? b : b.subarray(0, left);
      parts.push(v);
      left -= v.length;
    }
    const n = parts.length === 1 ? this.io.sockWrite(this.fd, parts[0]!) : this.io.sockWritev(this.fd, parts, 0, parts.length);
    return [n, this.piece - left];
  }

  /**
   * Replaces every volatile part waiting in the queue by its safe copy (same length: what could
   * not be read is zeros). True when there was one. A copy that fails destroys the socket.
   */
  private settleVolatile(): boolean {
    if (!this.volatileQueued) return false;
    this.volatileQueued = false;
    const q = this.queue;
    let any = false;
    for (let i = this.head; i < q.length; i++) {
      const copy = volatileCopier(q[i]!);
      if (copy === undefined) continue;
      const c = copy(q[i]!);
      if (c === undefined) {
        // Never send what could not be read: the peer sees the connection fail, not wrong bytes.
        this.destroy(Object.assign(new Error('write EIO: a volatile part could not be copied'), { code: 'EIO', syscall: 'write' }));
        return true;
      }
      q[i] = c;
      any = true;
    }
    return any;
  }

  /** Drops `n` written bytes from the front of the queue, running the callbacks of whole parts. */
  private consume(n: number): void {
    this.writableLength -= n;
    const q = this.queue;
    while (n > 0) {
      const b = q[this.head]!;
      if (n < b.length) {
        q[this.head] = b.subarray(n);
        return;
      }
      n -= b.length;
      const cb = this.callbacks[this.head];
      q[this.head] = undefined!;
      this.callbacks[this.head] = undefined;
      this.head++;
      if (cb !== undefined) nextTick(cb);
    }
    // A queue that never empties (a peer always behind) must not grow without end.
    if (this.head >= COMPACT_AT && this.head * 2 >= q.length) {
      q.splice(0, this.head);
      this.callbacks.splice(0, this.head);
      this.head = 0;
    }
  }

  private shutWrite(): void {
    this.writeShut = true;
    const r = this.io.sockShutdown(this.fd);
    // ENOTCONN: the peer has already gone; the read side will see it.
    if (r < 0 && r !== -107) {
      this.destroy(sysError(r, 'shutdown'));
      return;
    }
    if (this.readEnded) this.destroy();
  }

  /** A failure found inside a caller's write: reported on a later tick, as net.Socket does. */
  private failLater(negErrno: number, syscall: string): void {
    this.broken = true;
    const err = sysError(negErrno, syscall);
    nextTick(() => this.destroy(err));
  }
}

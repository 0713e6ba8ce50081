/**
 * A Conn over a Node stream socket (TCP or Unix): framing on receive, batched writes on send,
 * backpressure both ways.
 *
 * Send: the frames queued while a read is being handled, or in one tick, go out together in one
 * socket write. A batch of at most COALESCE_MAX bytes is copied into one buffer (one write(2),
 * no vector: cheaper than a two-part writev for the usual small frames); a larger batch is one
 * vectored write of the parts as given, so big payloads are never copied.
 *
 * Reply memory: `reserve` hands out big buffers from a pool shared by every socket Conn of the
 * process (`bigBuffers`); one that is sent goes back to the pool once the socket has written it,
 * so a server answering big reads (storage) reuses the same warm memory instead of a fresh
 * megabyte per reply (see buffer-pool.ts for what that costs).
 *
 * Receive: a socket made by `dial` reads into a SlabReader (Node's `onread`), so a frame is a
 * view of the bytes the kernel wrote, kept or lent (`lendFrames`; see slab-reader.ts). A socket
 * accepted by `listen` is re-wrapped with the same `onread` by `adoptWithOnread`; where that
 * cannot be done it delivers Node's 'data' chunks to a Framer (frames are then views of those
 * chunks, and never lent).
 */
import { Buffer } from 'node:buffer'; // not the global: in Node 20 that is a getter on globalThis, read on every use
import { Socket } from 'node:net';
import { Framer } from '@prose/protocol';
import { DEFAULT_MAX_FRAME, type Conn, type ConnHandler } from './conn.js';
import { bigBuffers } from './buffer-pool.js';
import { u8Set } from './frame-copy.js';
import { SlabReader } from './slab-reader.js';
import { FdSocket } from './fd-socket.js';
import { volatileCopier } from './volatile.js';

/** What a SocketConn uses of its socket: a net.Socket, or an FdSocket (fd-socket.ts). */
type ByteSocket = Socket | FdSocket;

/** process.nextTick, read once: `process` is a getter on globalThis and a dictionary-mode object. */
const nextTick = process.nextTick;

/** A write batch up to this size is copied into one buffer; above it, parts go as one writev. */
const COALESCE_MAX = 8 * 1024;
/** `reserve` hands out pooled memory for payloads of at least this size (smaller: ordinary buffers). */
const RESERVE_MIN = 64 * 1024;
/** Whether one of the first `n` parts is volatile memory (volatile.ts), which must not be copied here. */
function anyVolatile(out: Array<Buffer | undefined>, n: number): boolean {
  for (let i = 0; i < n; i++) if (volatileCopier(out[i]!) !== undefined) return true;
  return false;
}

/** Gives written reply buffers back to the pool. */
function giveAll(bufs: Buffer[]): void {
  for (let i = 0; i < bufs.length; i++) bigBuffers.give(bufs[i]!);
}

/** The parts of Node's internal stream handle (TCPWrap, PipeWrap) that `adoptWithOnread` uses. */
interface StreamHandle {
  reading?: boolean;
  readStop(): number;
  useUserBuffer(b: Uint8Array): void;
}

/**
 * Gives an accepted socket's connection to a new Socket that reads through `onread`, as a dialed
 * one does. Node 20's `net.createServer` cannot pass `onread` to the sockets it accepts (their
 * 'data' events each bring a fresh 64 KiB buffer), but `new net.Socket({ handle, onread })`
 * accepts it. So the raw handle is taken from `accepted` — which must still be paused, as with
 * `pauseOnConnect`, so no byte has been read — and re-wrapped.
 *
 * NODE INTERNALS, all of them here: `socket._handle` (a getter/setter over the private handle
 * slot) and the `handle` option of the Socket constructor, which is what Node's own server uses.
 * After the move `accepted` holds no handle; it stays open only so the server keeps counting the
 * connection (`server.close` waits for it and `getConnections` sees it), and is destroyed, which
 * touches no handle and just uncounts it, when the new socket closes.
 *
 * Returns undefined, leaving `accepted` as it was, when the internals are not as expected or the
 * socket has already started reading; the caller then uses the 'data' path.
 */
export function adoptWithOnread(accepted: Socket, onread: SlabReader['onread']): Socket | undefined {
  const holder = accepted as unknown as { _handle?: StreamHandle | null };
  let handle: StreamHandle | null | undefined;
  try {
    handle = holder._handle;
  } catch {
    return undefined;
  }
  if (
    handle == null ||
    typeof handle.useUserBuffer !== 'function' ||
    typeof handle.readStop !== 'function' ||
    handle.reading === true ||
    accepted.readableFlowing === true ||
    accepted.readableLength > 0 ||
    accepted.destroyed
  ) {
    return undefined;
  }
  let adopted: Socket;
  try {
    holder._handle = null;
    if (holder._handle !== null) return undefined;
    const opts = { handle, onread, pauseOnCreate: true, readable: true, writable: true };
    adopted = new Socket(opts as ConstructorParameters<typeof Socket>[0]);
  } catch {
    holder._handle = handle;
    return undefined;
  }
  adopted.once('close', () => accepted.destroy());
  return adopted;
}

export class SocketConn implements Conn {
  readonly remote: string;
  readonly local: string;
  private handler: ConnHandler | undefined;
  private readonly framer: Framer | undefined;
  private readonly slab: SlabReader | undefined;
  private held: Buffer[] = [];
  private paused = false;
  private isClosed = false;
  private closeErr: Error | undefined;
  private drainWaiters: Array<() => void> = [];
  /**
   * Frame parts queued for the next write (the first `outCount` slots), and their total length.
   * The list is kept and its slots cleared after each write: a new list per write allocates its
   * backing store again, and `length = 0` is a runtime call.
   */
  private readonly out: Array<Buffer | undefined> = [];
  private outCount = 0;
  private outBytes = 0;
  /** Reserved buffers (see `reserve`) not yet sent, by their memory: the pool's buffer and the view handed out. */
  private reservations: Map<ArrayBufferLike, { buf: Buffer; view: Buffer }> | undefined = undefined;
  /** Reserved buffers that are among the queued parts: back to the pool once written. */
  private outReserved: Buffer[] | undefined = undefined;
  /** A flush is due: at the end of the read being handled, or on the next tick. */
  private flushDue = false;
  /** True while frames of one read are being handed to the handler. */
  private reading = false;
  private readonly flushTick = (): void => this.flush();
  private readonly deliver = (f: Buffer): void => {
    if (this.paused || !this.handler || this.held.length > 0) this.held.push(f);
    else this.handler.frame(f);
  };
  /** A frame lent in place (see `lendFrames`); held frames are copies, released at once. */
  private readonly deliverRef = (f: Buffer, release: () => void): void => {
    if (this.paused || !this.handler || this.held.length > 0) {
      const own = Buffer.allocUnsafe(f.length);
      own.set(f, 0);
      release();
      this.held.push(own);
    } else this.handler.frameRef!(f, release);
  };

  /**
   * Wraps a connected socket. `slab`: the SlabReader whose `onread` the socket was made with
   * (see `dial`); without it, the socket's 'data' events are framed. `lendFrames`: frames go
   * to the handler's `frameRef` (when it has one) in reused receive buffers; see
   * DialOptions.lendFrames.
   */
  constructor(
    private readonly socket: ByteSocket,
    names: { remote: string; local: string },
    maxFrame = DEFAULT_MAX_FRAME,
    slab?: SlabReader,
    private readonly lendFrames = false,
  ) {
    this.remote = names.remote;
    this.local = names.local;
    if (slab !== undefined) {
      this.slab = slab;
      slab.maxFrame = maxFrame;
      slab.onBytes = (n) => this.onRead(n, undefined);
    } else {
      this.framer = new Framer(maxFrame);
      (socket as Socket).on('data', (chunk: Buffer) => this.onRead(chunk.length, chunk));
    }
    socket.on('drain', () => this.wakeDrain());
    socket.on('error', (err) => this.finish(err as Error, true));
    socket.on('close', () => this.finish(undefined, false));
    socket.on('end', () => socket.end());
    socket.pause();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Volatile parts (volatile.ts) are taken where this process writes the socket itself (FdSocket). */
  get volatileParts(): boolean {
    return this.socket instanceof FdSocket;
  }

  /** Who reads and writes the socket: this process ('fd', see fd-socket.ts) or Node's net.Socket. */
  get socketIo(): 'fd' | 'node' {
    return this.socket instanceof FdSocket ? 'fd' : 'node';
  }

  start(handler: ConnHandler): void {
    if (this.handler) throw new Error('Conn.start called twice');
    this.handler = handler;
    if (this.lendFrames && this.slab !== undefined && handler.frameRef !== undefined) {
      this.slab.lend = this.deliverRef;
      if (handler.lendable !== undefined) this.slab.lendIf = (type, tag) => handler.lendable!(type, tag);
    }
    if (this.isClosed) {
      handler.close(this.closeErr);
      return;
    }
    this.flushHeld();
    if (!this.paused) this.socket.resume();
  }

  send(frame: Buffer | readonly Buffer[]): boolean {
    if (this.isClosed) return false;
    if (Buffer.isBuffer(frame)) {
      this.out[this.outCount++] = frame;
      this.outBytes += frame.length;
    } else {
      const reserved = this.reservations;
      for (let i = 0; i < frame.length; i++) {
        const part = frame[i]!;
        this.out[this.outCount++] = part;
        this.outBytes += part.length;
        if (reserved !== undefined && reserved.size > 0) this.takeReserved(reserved, part);
      }
    }
    if (!this.flushDue) {
      this.flushDue = true;
      if (!this.reading) nextTick(this.flushTick);
    }
    const s = this.socket;
    return s.writableLength + this.outBytes < s.writableHighWaterMark;
  }

  drain(): Promise<void> {
    this.flush();
    if (this.isClosed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * A Buffer of `n` bytes for a reply's payload, in memory reused from earlier replies, or
   * undefined below RESERVE_MIN (an ordinary buffer is as cheap there). Sent as a part of a
   * frame, it is the Conn's from then on and goes back to the pool once written; not sent, it
   * must be given back with `unreserve`.
   */
  reserve(n: number): Buffer | undefined {
    if (this.isClosed || n < RESERVE_MIN) return undefined;
    const buf = bigBuffers.take(n);
    const view = buf.subarray(0, n);
    (this.reservations ??= new Map()).set(buf.buffer, { buf, view });
    return view;
  }

  /**
   * Gives back the very Buffer `reserve` returned, not sent; anything else is ignored — also a
   * late call for a buffer that was sent, written and has since been handed out again.
   */
  unreserve(view: Buffer): void {
    const r = this.reservations?.get(view.buffer);
    if (r === undefined || r.view !== view) return;
    this.reservations!.delete(view.buffer);
    bigBuffers.give(r.buf);
  }

  /** `part` (the reserved Buffer or a view of it) is being sent: its buffer is now the Conn's to recycle. */
  private takeReserved(reserved: Map<ArrayBufferLike, { buf: Buffer; view: Buffer }>, part: Buffer): void {
    const r = reserved.get(part.buffer);
    if (r === undefined) return;
    reserved.delete(part.buffer);
    (this.outReserved ??= []).push(r.buf);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flushHeld();
    if (!this.paused && this.handler && !this.isClosed) this.socket.resume();
  }

  setMaxFrame(n: number): void {
    if (this.framer) this.framer.maxSize = n;
    if (this.slab) this.slab.maxFrame = n;
  }

  /**
   * Closes the channel. Frames already queued are still written (the socket is ended, not
   * destroyed), so a reply sent just before a protocol error reaches the peer; a peer that
   * does not close its side within a second is cut off.
   */
  close(err?: Error): void {
    if (this.isClosed) return;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.finish(err, false);
    // Read on (and drop: the Conn is closed) so the peer's end is seen even if the Conn was
    // paused: an `onread` socket that is paused does not read at all, EOF included.
    this.socket.resume();
  }

  /** `n` bytes arrived (in `chunk` for a 'data' socket, in the slab otherwise): frame and answer them. */
  private onRead(n: number, chunk: Buffer | undefined): void {
    if (this.isClosed) return;
    // Paused, yet read: Node restarts reading on the tick after a resume (its deferred resume_
    // calls read(0)) even when the socket was paused again in between. Stopping here bounds
    // what a paused Conn holds to this one read, and so keeps backpressure on the peer.
    if (this.paused) this.socket.pause();
    this.reading = true;
    try {
      if (chunk !== undefined) this.framer!.push(chunk, this.deliver);
      else this.slab!.take(n, this.deliver);
    } catch (err) {
      this.reading = false;
      this.close(err as Error);
      return;
    }
    this.reading = false;
    // Replies made while the frames were handled go out now, in one write.
    if (this.flushDue) this.flush();
  }

  /** Writes what is queued: one buffer when small, else one vectored write of the parts. */
  private flush(): void {
    this.flushDue = false;
    const out = this.out;
    const n = this.outCount;
    if (n === 0) return;
    const bytes = this.outBytes;
    this.outBytes = 0;
    this.write(out, n, bytes);
    // (No write calls back into `send` synchronously: Node defers write callbacks and events.)
    for (let i = 0; i < n; i++) out[i] = undefined;
    this.outCount = 0;
  }

  /** The body of `flush`: the first `n` parts of `out`, `bytes` in all, to the socket. */
  private write(out: Array<Buffer | undefined>, n: number, bytes: number): void {
    if (this.isClosed) {
      this.outReserved = undefined;
      return;
    }
    const s = this.socket;
    const recycle = this.outReserved;
    if (recycle !== undefined) {
      this.outReserved = undefined;
      // Written (or dropped by a destroyed socket), the buffers go back to the pool.
      s.cork();
      for (let i = 0; i < n - 1; i++) s.write(out[i]!);
      s.write(out[n - 1]!, () => giveAll(recycle));
      s.uncork();
    } else if (n === 1) {
      s.write(out[0]!);
    } else if (bytes <= COALESCE_MAX && !anyVolatile(out, n)) {
      const b = Buffer.allocUnsafe(bytes);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const part = out[i]!;
        u8Set.call(b, part, off);
        off += part.length;
      }
      s.write(b);
    } else {
      s.cork();
      for (let i = 0; i < n; i++) s.write(out[i]!);
      s.uncork();
    }
  }

  private flushHeld(): void {
    while (this.held.length > 0 && !this.paused && this.handler && !this.isClosed) {
      this.handler.frame(this.held.shift()!);
    }
  }

  private wakeDrain(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  private finish(err: Error | undefined, destroy: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeErr = err;
    this.out.length = 0;
    this.outCount = 0;
    this.outBytes = 0;
    this.outReserved = undefined;
    this.reservations = undefined;
    if (destroy) this.socket.destroy();
    this.wakeDrain();
    this.handler?.close(err);
  }
}

/**
 * The receive side of a conversation: what the socket delivered and the `data` reads waiting
 * for it. Bounded: a stream (TCP) asks its producer to pause when `limit` bytes are held and to
 * resume once reads have taken it down to a quarter; a datagram queue (UDP) drops what does not
 * fit. Readers are served strictly in arrival order, so pipelined reads see the bytes in order.
 *
 * Unlike @prose/server's ReadQueue this takes the socket's Buffers as they are (no copy: they
 * are fresh per read from the kernel) and tells its producer when to pause and resume.
 */
import { Ename, Errno, NinepError } from '@prose/protocol';

export interface InboundOptions {
  /**
   * true: a read gathers bytes across chunks up to its count (TCP). false: a read takes one
   * datagram; a count smaller than the datagram truncates it and the rest is dropped (ip(3)).
   */
  stream: boolean;
  /** Bytes held before `push` answers false (stream: pause; datagrams: dropped). */
  limit: number;
  /** A stream that was full went down to limit/4: its producer may resume. */
  onDrain?(): void;
}

interface Reader {
  count: number;
  resolve(b: Buffer): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const EMPTY = Buffer.alloc(0);

function interrupted(signal: AbortSignal): unknown {
  return signal.reason ?? new NinepError(Ename.interrupted, Errno.EINTR);
}

export class Inbound {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private readers: Reader[] = [];
  private ended = false;
  private error: NinepError | undefined = undefined;
  private full = false;
  /** Datagrams dropped because the queue was full. */
  dropped = 0;
  /** Bytes ever pushed (kept). */
  received = 0;
  private readonly opts: InboundOptions;

  constructor(opts: InboundOptions) {
    this.opts = opts;
  }

  /** Bytes held. */
  get length(): number {
    return this.bytes;
  }

  /** Reads waiting. */
  get waiting(): number {
    return this.readers.length;
  }

  /** True after `end` or `fail`. */
  get done(): boolean {
    return this.ended || this.error !== undefined;
  }

  /**
   * Adds a chunk (kept as is: do not reuse it) and serves waiting readers. Returns false when
   * the producer should pause (stream at its limit) or the datagram was dropped. Ignored after
   * `end`/`fail`.
   */
  push(b: Buffer): boolean {
    if (this.done) return true;
    if (!this.opts.stream && this.bytes > 0 && this.bytes + b.length > this.opts.limit) {
      this.dropped++;
      return false;
    }
    if (b.length === 0 && this.opts.stream) return true;
    this.chunks.push(b);
    this.bytes += b.length;
    this.received += b.length;
    this.serve();
    if (this.opts.stream && this.bytes >= this.opts.limit) {
      this.full = true;
      return false;
    }
    return true;
  }

  /**
   * Up to `count` bytes: at once when some are held, else when some arrive. After `end`, held
   * bytes and then end of file (empty); after `fail`, held bytes and then the error. A fired
   * `signal` rejects with its reason ("interrupted").
   */
  read(count: number, signal?: AbortSignal): Buffer | Promise<Buffer> {
    if (this.readers.length === 0) {
      if (this.chunks.length > 0) return this.take(count);
      if (this.error !== undefined) throw this.error;
      if (this.ended) return EMPTY;
    }
    if (signal?.aborted) return Promise.reject(interrupted(signal));
    return new Promise<Buffer>((resolve, reject) => {
      const r: Reader = { count, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        r.onAbort = () => {
          const i = this.readers.indexOf(r);
          if (i >= 0) this.readers.splice(i, 1);
          reject(interrupted(signal));
        };
        signal.addEventListener('abort', r.onAbort, { once: true });
      }
      this.readers.push(r);
    });
  }

  /** End of file: after the held bytes, reads get empty. */
  end(): void {
    if (this.done) return;
    this.ended = true;
    this.serve();
  }

  /** An error: after the held bytes, reads fail with `err`. */
  fail(err: NinepError): void {
    if (this.done) return;
    this.error = err;
    this.serve();
  }

  /** Drops the held bytes and ends (hangup): waiting and later reads get end of file. */
  close(): void {
    this.chunks = [];
    this.bytes = 0;
    this.ended = true;
    this.serve();
  }

  private serve(): void {
    while (this.readers.length > 0 && (this.chunks.length > 0 || this.done)) {
      const r = this.readers.shift()!;
      if (r.onAbort !== undefined) r.signal!.removeEventListener('abort', r.onAbort);
      if (this.chunks.length > 0) r.resolve(this.take(r.count));
      else if (this.error !== undefined) r.reject(this.error);
      else r.resolve(EMPTY);
    }
  }

  private take(count: number): Buffer {
    const head = this.chunks[0]!;
    let out: Buffer;
    if (!this.opts.stream) {
      this.chunks.shift();
      this.bytes -= head.length;
      out = head.length <= count ? head : head.subarray(0, count);
    } else if (head.length >= count) {
      out = head.length === count ? head : head.subarray(0, count);
      if (head.length === count) this.chunks.shift();
      else this.chunks[0] = head.subarray(count);
      this.bytes -= count;
    } else {
      const n = Math.min(count, this.bytes);
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
      this.bytes -= n;
    }
    if (this.full && this.bytes <= this.opts.limit / 4) {
      this.full = false;
      this.opts.onDrain?.();
    }
    return out;
  }
}

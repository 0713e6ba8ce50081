/**
 * Blocking reads: a read that waits until data is ready and ends when its request is flushed
 * (the AbortSignal of the Req). `Waiters` is the bare mechanism, `ReadQueue` the common case
 * (cons input, connection data, listen).
 */
import { Ename, Errno, NinepError } from '@prose/protocol';

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new NinepError(Ename.interrupted, Errno.EINTR);
}

/** Parked callers waiting for a value; each leaves when woken, failed, or its signal fires. */
export class Waiters<T> {
  private queue: Waiter<T>[] = [];

  /** Callers waiting now. */
  get size(): number {
    return this.queue.length;
  }

  /** Waits for the next `wake`; rejects with the signal's reason ("interrupted") on abort. */
  wait(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        w.onAbort = () => {
          this.drop(w);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
    });
  }

  /** Wakes the longest-waiting caller with `v`; false when nobody waits. */
  wake(v: T): boolean {
    const w = this.queue.shift();
    if (w === undefined) return false;
    this.unlisten(w);
    w.resolve(v);
    return true;
  }

  /** Wakes every caller with `v`; returns how many. */
  wakeAll(v: T): number {
    const ws = this.queue;
    this.queue = [];
    for (const w of ws) {
      this.unlisten(w);
      w.resolve(v);
    }
    return ws.length;
  }

  /** Fails every caller with `err`. */
  failAll(err: unknown): void {
    const ws = this.queue;
    this.queue = [];
    for (const w of ws) {
      this.unlisten(w);
      w.reject(err);
    }
  }

  private drop(w: Waiter<T>): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private unlisten(w: Waiter<T>): void {
    if (w.onAbort !== undefined) w.signal!.removeEventListener('abort', w.onAbort);
  }
}

/** How a ReadQueue hands out its data. */
export interface ReadQueueOptions {
  /**
   * Stream mode: a read takes as many bytes as are queued, up to its count, across writes.
   * Default false: message mode, each read takes (at most count bytes of) one queued message.
   */
  stream?: boolean;
  /** Most bytes held; `put` beyond it throws "resource temporarily unavailable" (EAGAIN). Default 1 MiB. */
  limit?: number;
}

/**
 * A queue that readers block on: `put` appends data (copied: it usually is a view of a Twrite),
 * `read` answers at once when data is queued and otherwise waits for it, for `close`, or for its
 * request's flush. After `close`, reads drain what is left and then get end of file (empty).
 */
export class ReadQueue {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private closed = false;
  private readonly readers = new Waiters<void>();
  private readonly stream: boolean;
  private readonly limit: number;

  constructor(opts: ReadQueueOptions = {}) {
    this.stream = opts.stream ?? false;
    this.limit = opts.limit ?? 1024 * 1024;
  }

  /** Bytes queued. */
  get length(): number {
    return this.bytes;
  }

  /** Readers waiting. */
  get waiting(): number {
    return this.readers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a copy of `data` and wakes one reader. Throws after close or beyond the limit. */
  put(data: Buffer | string): void {
    if (this.closed) throw new NinepError(Ename.hungup, Errno.EPIPE);
    const b = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    if (this.bytes + b.length > this.limit) throw NinepError.errno(Errno.EAGAIN);
    if (b.length === 0) return;
    this.chunks.push(b);
    this.bytes += b.length;
    this.readers.wake();
  }

  /** Up to `count` bytes: now when queued, else when data comes; empty at end of file. */
  read(count: number, signal?: AbortSignal): Buffer | Promise<Buffer> {
    if (this.bytes > 0 || this.closed) return this.take(count);
    return this.readers.wait(signal).then(() => this.read(count, signal));
  }

  /** No more data: waiting readers get end of file. */
  close(): void {
    this.closed = true;
    this.readers.wakeAll();
  }

  private take(count: number): Buffer {
    if (this.bytes === 0) return Buffer.alloc(0);
    const head = this.chunks[0]!;
    if (!this.stream || head.length >= count) {
      const out = head.length <= count ? head : head.subarray(0, count);
      if (out === head) this.chunks.shift();
      else this.chunks[0] = head.subarray(count);
      this.bytes -= out.length;
      this.wakeNext();
      return out;
    }
    const parts: Buffer[] = [];
    let n = 0;
    while (n < count && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const want = count - n;
      if (c.length <= want) {
        parts.push(c);
        this.chunks.shift();
        n += c.length;
      } else {
        parts.push(c.subarray(0, want));
        this.chunks[0] = c.subarray(want);
        n += want;
      }
    }
    this.bytes -= n;
    this.wakeNext();
    return Buffer.concat(parts, n);
  }

  /** More data left after a take: let the next waiting reader have it. */
  private wakeNext(): void {
    if (this.bytes > 0) this.readers.wake();
  }
}

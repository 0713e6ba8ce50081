/**
 * A console's input (cons(3) keyboard side): bytes the operator injects, read by the partition
 * through `cons`. Cooked mode (the default) edits a line as it comes — backspace (^H) erases
 * the last character, ^U kills the line, newline or ^D ends it — and a read returns at most one
 * line; ^D with nothing typed makes one read return 0 bytes (end of file). Raw mode (consctl
 * `rawon`) passes bytes untouched and a read returns whatever is there, up to its count.
 */
import { Errno, NinepError } from '@prose/protocol';
import { Waiters } from '@prose/server';

const NL = 0x0a;
const EOT = 0x04; // ^D
const BS = 0x08; // ^H
const NAK = 0x15; // ^U

export interface ConsInputOptions {
  /** Most bytes held (ended lines, raw bytes and the line being typed). Default 64 KiB. */
  limit?: number;
}

/** The error for input that does not fit. */
export function inputFull(limit: number): NinepError {
  return new NinepError(`console input full (${limit} bytes)`, Errno.EAGAIN);
}

export class ConsInput {
  /** Ended units: a line (with its newline), a ^D-ended line (maybe empty), or raw bytes. */
  private ready: Buffer[] = [];
  private readyBytes = 0;
  /** The line being typed (cooked mode). */
  private line: number[] = [];
  private rawMode = false;
  private closed = false;
  private readonly readers = new Waiters<void>();
  readonly limit: number;

  constructor(opts: ConsInputOptions = {}) {
    this.limit = opts.limit ?? 64 * 1024;
  }

  /** True in raw mode. */
  get raw(): boolean {
    return this.rawMode;
  }

  /** Bytes held: ready to read plus the line being typed. */
  get length(): number {
    return this.readyBytes + this.line.length;
  }

  /** Reads blocked now. */
  get waiting(): number {
    return this.readers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Takes operator input: in cooked mode edited into lines, in raw mode queued as is. The whole
   * write is refused (EAGAIN) when it would pass the limit, and after `close` ("connection
   * closed", EPIPE). Wakes blocked reads for what became readable.
   */
  inject(data: Buffer | string): void {
    if (this.closed) throw NinepError.errno(Errno.EPIPE, 'console hung up');
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.length + b.length > this.limit) throw inputFull(this.limit);
    if (b.length === 0) return;
    if (this.rawMode) {
      this.commit(Buffer.from(b));
      return;
    }
    for (const c of b) {
      switch (c) {
        case NL:
          this.line.push(c);
          this.endLine();
          break;
        case EOT:
          this.endLine();
          break;
        case BS:
          this.erase();
          break;
        case NAK:
          this.line = [];
          break;
        default:
          this.line.push(c);
      }
    }
  }

  /**
   * Switches raw mode. Going raw, a half-typed line becomes readable as it is; going back to
   * cooked, bytes not yet read stay readable.
   */
  setRaw(on: boolean): void {
    if (on === this.rawMode) return;
    this.rawMode = on;
    if (on && this.line.length > 0) {
      const b = Buffer.from(this.line);
      this.line = [];
      this.commit(b);
    }
  }

  /**
   * At most `count` bytes: cooked, from one line (the rest of a long line stays for the next
   * read); raw, everything ready up to count. Waits while nothing is ready, until input comes,
   * `close` (then 0 bytes: end of file), or `signal` fires (its reason, "interrupted").
   */
  read(count: number, signal?: AbortSignal): Buffer | Promise<Buffer> {
    if (this.ready.length > 0) return this.take(count);
    if (this.closed) return Buffer.alloc(0);
    return this.readers.wait(signal).then(() => this.read(count, signal));
  }

  /** No more input: blocked and later reads get what is ready, then end of file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.line = [];
    this.readers.wakeAll();
  }

  private endLine(): void {
    const b = Buffer.from(this.line);
    this.line = [];
    this.commit(b);
  }

  /** Erases the last UTF-8 character of the line being typed. */
  private erase(): void {
    while (this.line.length > 0) {
      const c = this.line.pop()!;
      if ((c & 0xc0) !== 0x80) break;
    }
  }

  private commit(b: Buffer): void {
    this.ready.push(b);
    this.readyBytes += b.length;
    this.readers.wake();
  }

  private take(count: number): Buffer {
    const head = this.ready[0]!;
    let out: Buffer;
    if (!this.rawMode || head.length === 0 || head.length >= count) {
      out = head.length <= count ? head : head.subarray(0, count);
      if (out === head) this.ready.shift();
      else this.ready[0] = head.subarray(count);
    } else {
      const parts: Buffer[] = [];
      let n = 0;
      while (n < count && this.ready.length > 0 && this.ready[0]!.length > 0) {
        const c = this.ready[0]!;
        const want = count - n;
        if (c.length <= want) {
          parts.push(c);
          this.ready.shift();
          n += c.length;
        } else {
          parts.push(c.subarray(0, want));
          this.ready[0] = c.subarray(want);
          n += want;
        }
      }
      out = Buffer.concat(parts, n);
    }
    this.readyBytes -= out.length;
    if (this.ready.length > 0) this.readers.wake();
    return out;
  }
}

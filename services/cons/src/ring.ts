/**
 * A console's output log: what the partition wrote, kept in a ring of fixed size, with readers
 * that follow it. Every byte has an absolute position (0 = the first byte ever written); the
 * ring holds positions [start, end). A follower keeps its own position: reading at the end
 * waits for more; a follower that fell behind the ring (its bytes were overwritten) is told how
 * much it lost by a marker line and goes on from the oldest byte kept.
 */
import { Waiters } from '@prose/server';

/** The line a follower gets in place of `n` bytes it lost. */
export function lostMarker(n: number): string {
  return `\n[lost ${n} bytes]\n`;
}

export class RingLog {
  readonly capacity: number;
  private buf: Buffer | undefined = undefined;
  private startPos = 0;
  private endPos = 0;
  private closed = false;
  private readonly followers = new Waiters<void>();

  /** A log keeping the last `capacity` bytes (> 0); the memory is taken at the first write. */
  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`log capacity ${capacity}`);
    this.capacity = capacity;
  }

  /** Position of the oldest byte kept. */
  get start(): number {
    return this.startPos;
  }

  /** Position after the newest byte: all bytes ever written. */
  get end(): number {
    return this.endPos;
  }

  /** Followers waiting for output now. */
  get waiting(): number {
    return this.followers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Appends `data` (copied; only its last `capacity` bytes if longer) and wakes every follower. */
  write(data: Buffer): void {
    if (data.length === 0) return;
    const buf = (this.buf ??= Buffer.alloc(this.capacity));
    const cap = this.capacity;
    const src = data.length > cap ? data.subarray(data.length - cap) : data;
    let at = (this.endPos + (data.length - src.length)) % cap;
    let done = 0;
    while (done < src.length) {
      const n = Math.min(src.length - done, cap - at);
      src.copy(buf, at, done, done + n);
      done += n;
      at = (at + n) % cap;
    }
    this.endPos += data.length;
    this.startPos = Math.max(this.startPos, this.endPos - cap);
    this.followers.wakeAll();
  }

  /**
   * What a follower at `pos` reads now, at most `count` bytes: the lost-bytes marker when `pos`
   * is before `start` (then `next` is `start`), else the bytes from `pos` (empty at the end).
   */
  readAt(pos: number, count: number): { data: Buffer; next: number } {
    if (pos < this.startPos) {
      return { data: Buffer.from(lostMarker(this.startPos - pos)).subarray(0, count), next: this.startPos };
    }
    const n = Math.min(count, this.endPos - pos);
    if (n <= 0 || this.buf === undefined) return { data: Buffer.alloc(0), next: pos };
    const cap = this.capacity;
    const at = pos % cap;
    const first = Math.min(n, cap - at);
    const data = Buffer.allocUnsafe(n);
    this.buf.copy(data, 0, at, at + first);
    if (first < n) this.buf.copy(data, first, 0, n - first);
    return { data, next: pos + n };
  }

  /**
   * Like readAt, but waits while there is nothing new: until a write, `close` (then empty: end
   * of file), or `signal` (rejects with its reason).
   */
  follow(pos: number, count: number, signal?: AbortSignal): { data: Buffer; next: number } | Promise<{ data: Buffer; next: number }> {
    if (pos < this.endPos || this.closed || count <= 0) return this.readAt(pos, count);
    return this.followers.wait(signal).then(() => this.follow(pos, count, signal));
  }

  /** No more output: waiting followers get what is left, then end of file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.followers.wakeAll();
  }
}

/**
 * Big buffers kept for reuse. A buffer of a megabyte taken fresh for every reply or receive
 * costs more than its copy: the pages are faulted in and zeroed by the kernel, and the external
 * memory V8 is told about brings on full garbage collections (a storage server sending 1 MiB
 * Rreads at 600 MB/s spent a quarter of its CPU marking and sweeping its heap). Reused, the
 * memory is warm and V8 sees no new allocation.
 */

/** See the module doc. Not thread-safe; one per process or per owner. */
export class BufferPool {
  private readonly spares: Buffer[] = [];
  private spareBytes = 0;

  /**
   * `maxBytes`, `maxCount`: at most this much memory, and this many buffers, are kept spare
   * (buffers in use do not count). `unit`: new buffers are sized up to a multiple of it, so
   * that requests of slightly different sizes can share buffers.
   */
  constructor(
    readonly maxBytes: number,
    readonly maxCount: number,
    readonly unit = 64 * 1024,
  ) {}

  /** Spare buffers and their total size, for tests and metrics. */
  get spare(): { count: number; bytes: number } {
    return { count: this.spares.length, bytes: this.spareBytes };
  }

  /**
   * A buffer of at least `n` bytes, the caller's until it `give`s it back: the most recently
   * given spare that fits, or a new one. Its contents are undefined.
   */
  take(n: number): Buffer {
    const spares = this.spares;
    for (let i = spares.length - 1; i >= 0; i--) {
      const b = spares[i]!;
      if (b.length >= n) {
        spares.splice(i, 1);
        this.spareBytes -= b.length;
        return b;
      }
    }
    return Buffer.allocUnsafe(Math.ceil(n / this.unit) * this.unit);
  }

  /**
   * Keeps `b` (a buffer from `take`, no longer used) for reuse when there is room, dropping the
   * oldest spares to make it; a buffer bigger than `maxBytes` is not kept.
   */
  give(b: Buffer): void {
    if (b.length > this.maxBytes || this.maxCount <= 0) return;
    const spares = this.spares;
    while (spares.length > 0 && (spares.length >= this.maxCount || this.spareBytes + b.length > this.maxBytes)) {
      this.spareBytes -= spares.shift()!.length;
    }
    spares.push(b);
    this.spareBytes += b.length;
  }
}

/**
 * The process's big transport buffers, shared by every socket Conn: reply buffers (`reserve`)
 * and the staging buffers big received frames are read into when lent. One bound for both:
 * at most 32 spare buffers and 32 MiB, enough for a window of 8 requests of 1 MiB each way.
 */
export const bigBuffers = new BufferPool(32 * 1024 * 1024, 32);

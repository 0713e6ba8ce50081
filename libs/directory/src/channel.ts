/**
 * A small unbounded async queue that is also an async iterator: producers `push`, one consumer
 * iterates; `close` ends the iteration after what is queued, `fail` ends it with an error.
 * Breaking out of a `for await` (the iterator's `return`) closes it and runs `onClose`.
 */
export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((e: unknown) => void) | undefined;
  private done = false;
  private error: unknown = undefined;
  private readonly closers: Array<() => void> = [];

  /** Runs `fn` once, when the channel is closed by either side. */
  onClose(fn: () => void): void {
    if (this.done) fn();
    else this.closers.push(fn);
  }

  get closed(): boolean {
    return this.done;
  }

  /** Queues `v`; ignored after close. */
  push(v: T): void {
    if (this.done) return;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = this.failWaiter = undefined;
      w({ value: v, done: false });
    } else {
      this.items.push(v);
    }
  }

  /** Ends the iteration once the queue is drained. */
  close(): void {
    if (this.done) return;
    this.done = true;
    const w = this.waiter;
    this.waiter = this.failWaiter = undefined;
    if (w !== undefined && this.items.length === 0) w({ value: undefined, done: true });
    for (const fn of this.closers.splice(0)) fn();
  }

  /** Ends the iteration with `err` after the queue is drained. */
  fail(err: unknown): void {
    if (this.done) return;
    this.error = err;
    const f = this.failWaiter;
    this.close();
    if (f !== undefined && this.items.length === 0) f(err);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.done) {
      if (this.error !== undefined) {
        const e = this.error;
        this.error = undefined;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

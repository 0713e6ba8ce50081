/**
 * The outstanding requests of a session by tag: an array indexed by the 16-bit tag rather than
 * a Map, so the two lookups each request costs (on arrival and on reply) are plain indexing.
 */
import type { Req } from './req.js';

/** @internal The Map methods a session uses, for tags 0..65535. */
export class TagTable {
  private readonly slots: Array<Req | undefined> = [];
  private count = 0;

  /** Requests held. */
  get size(): number {
    return this.count;
  }

  get(tag: number): Req | undefined {
    return this.slots[tag];
  }

  has(tag: number): boolean {
    return this.slots[tag] !== undefined;
  }

  /** Holds `r` under `tag`, replacing any request held there. */
  set(tag: number, r: Req): void {
    if (this.slots[tag] === undefined) this.count++;
    this.slots[tag] = r;
  }

  delete(tag: number): boolean {
    if (this.slots[tag] === undefined) return false;
    this.slots[tag] = undefined;
    this.count--;
    return true;
  }

  /** The requests held, in tag order (a snapshot: the table may change while it is walked). */
  values(): Req[] {
    const out: Req[] = [];
    if (this.count === 0) return out;
    for (const r of this.slots) if (r !== undefined) out.push(r);
    return out;
  }

  clear(): void {
    this.slots.length = 0;
    this.count = 0;
  }
}

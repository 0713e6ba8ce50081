import { BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  test('a given-back buffer is handed out again when it fits; a new one is sized up to the unit', () => {
    const p = new BufferPool(1 << 20, 4, 1024);
    const a = p.take(1000);
    expect(a.length).toBe(1024);
    p.give(a);
    expect(p.take(900)).toBe(a);
    expect(p.take(900)).not.toBe(a); // a is in use again
    p.give(a);
    expect(p.take(2000).length).toBe(2048); // too big for a: a new one, a stays spare
    expect(p.spare).toEqual({ count: 1, bytes: 1024 });
  });

  test('spares are bounded by count and bytes, the oldest dropped first', () => {
    const p = new BufferPool(4096, 3, 1024);
    const bufs = [p.take(1024), p.take(1024), p.take(1024), p.take(1024)];
    for (const b of bufs) p.give(b);
    expect(p.spare).toEqual({ count: 3, bytes: 3072 });
    expect(p.take(1)).toBe(bufs[3]); // most recent first
    p.give(p.take(4096)); // 4 KiB alone fills the byte bound: every other spare goes
    expect(p.spare).toEqual({ count: 1, bytes: 4096 });
    p.give(Buffer.alloc(8192)); // over the bound: not kept
    expect(p.spare.count).toBe(1);
  });
});

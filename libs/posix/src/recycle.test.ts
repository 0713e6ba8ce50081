import { execFileSync } from 'node:child_process';
import { ADDON_PATH, havePosix } from './native.js';
import { recycler } from './recycle.js';
import { withoutAddon } from './test-util.js';

const haveAddon = havePosix() && recycler() !== undefined;
const maybe = haveAddon ? test : test.skip;

maybe('a recycled Buffer has the size asked for, and is memory of its own', () => {
  const r = recycler()!;
  const a = r.recycledBuffer(100_000) as Buffer;
  const b = r.recycledBuffer(100_000) as Buffer;
  expect(Buffer.isBuffer(a)).toBe(true);
  expect(a.length).toBe(100_000);
  a.fill(1);
  b.fill(2);
  expect(a.every((x) => x === 1)).toBe(true);
  expect(b.every((x) => x === 2)).toBe(true);
  expect((r.recycledBuffer(1) as Buffer).length).toBe(1);
});

maybe('bad sizes are refused with a TypeError that says what was expected', () => {
  const r = recycler()!;
  // (the addon's TypeError is of the main realm, not Jest's: matched by its message)
  for (const bad of [0, -1, 'x', undefined, 2 ** 41]) expect(() => r.recycledBuffer(bad as number)).toThrow('recycledBuffer(size: a positive integer) expected');
  expect(() => r.recycleTrim(-1)).toThrow('recycleTrim(keepBytes: a non-negative integer) expected');
});

// Collection needs gc(): a child process with --expose-gc, which waits for the finalizers
// (Node runs them from the event loop after the collection).
maybe('memory of a collected Buffer is used again for the next of its size; trim lets it go; big ones and more than 64 MiB are not kept', () => {
  const script = `
    const a = require(${JSON.stringify(ADDON_PATH)});
    const wait = async (ok) => { for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5)); };
    (async () => {
      const out = {};
      const [idle0, reused0, fresh0] = a.recycleStats();
      let b = a.recycledBuffer(1048587); b.fill(7); b = null;
      gc();
      await wait(() => a.recycleStats()[0] > idle0);
      out.idleAfterGc = a.recycleStats()[0] - idle0;
      const c = a.recycledBuffer(1048587);
      const [idle1, reused1, fresh1] = a.recycleStats();
      out.reused = reused1 - reused0; out.fresh = fresh1 - fresh0; out.idleAfterReuse = idle1 - idle0;
      out.sameMemory = c[100] === 7 && c[1048586] === 7; // (the first bytes held the free list's link)
      let d = a.recycledBuffer(20 * 1024 * 1024); d = null;
      gc();
      await new Promise((r) => setTimeout(r, 100));
      out.idleAfterBig = a.recycleStats()[0] - idle1;
      let e = a.recycledBuffer(65547); e = null;
      gc();
      await wait(() => a.recycleStats()[0] > idle1);
      out.trimmed = a.recycleTrim(0);
      out.idleAfterTrim = a.recycleStats()[0];
      let many = Array.from({ length: 80 }, () => a.recycledBuffer(1 << 20)); many = null;
      gc();
      await wait(() => a.recycleStats()[0] >= 64 << 20);
      await new Promise((r) => setTimeout(r, 50));
      out.idleAfterMany = a.recycleStats()[0];
      console.log(JSON.stringify(out));
    })();`;
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 20_000 }));
  expect(out).toEqual({
    idleAfterGc: 1048576 + 4096, // whole pages
    reused: 1, // c
    fresh: 1, // b
    idleAfterReuse: 0,
    sameMemory: true,
    idleAfterBig: 0, // above 16 MiB: unmapped, not kept
    trimmed: 65536 + 4096,
    idleAfterTrim: 0,
    idleAfterMany: 64 * 1024 * 1024, // the most that waits; the other 16 were unmapped
  });
});

test('without the addon there is no recycler', () => {
  withoutAddon<typeof import('./recycle.js')>('./recycle.js', (m) => expect(m.recycler()).toBeUndefined());
});

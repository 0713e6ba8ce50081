import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { havePosix, recycler } from '@prose/posix';
import { IDLE_TRIM_MS, RECYCLE_MIN, keptBuffer } from './kept-buffer.js';

const maybe = havePosix() && recycler() !== undefined ? test : test.skip;

/** V8's own collector, made callable in this process (what --expose-gc gives). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

maybe('kept frames are recycled memory, used again once collected, and let go when frames stop', async () => {
  const gc = collector();
  const rec = recycler()!;
  rec.recycleTrim(0); // (what earlier tests in this process left waiting)
  const [, reused0, fresh0] = rec.recycleStats();
  // (made and dropped in a function of their own, so that nothing here still holds one)
  const lengths = (() => Array.from({ length: 4 }, () => keptBuffer(1048587)).map((f) => f.length))();
  expect(lengths).toEqual([1048587, 1048587, 1048587, 1048587]);
  expect(rec.recycleStats()[2] - fresh0).toBe(4);
  gc();
  for (let i = 0; i < 100 && rec.recycleStats()[0] < 4 * 1052672; i++) await sleep(5);
  expect(rec.recycleStats()[0]).toBeGreaterThanOrEqual(4 * 1052672);
  const again = keptBuffer(1048587);
  expect(rec.recycleStats()[1] - reused0).toBe(1);
  expect(again.length).toBe(1048587);
  // No kept frame for IDLE_TRIM_MS (and at most one more period): the waiting memory goes.
  await sleep(2 * IDLE_TRIM_MS + 200);
  expect(rec.recycleStats()[0]).toBe(0);
});

maybe('frames below RECYCLE_MIN come from Node', () => {
  const rec = recycler()!;
  const [, reused0, fresh0] = rec.recycleStats();
  expect(keptBuffer(RECYCLE_MIN - 1).length).toBe(RECYCLE_MIN - 1);
  expect(keptBuffer(65547).length).toBe(65547);
  const [, reused1, fresh1] = rec.recycleStats();
  expect(reused1 + fresh1).toBe(reused0 + fresh0);
  keptBuffer(RECYCLE_MIN);
  expect(rec.recycleStats()[1] + rec.recycleStats()[2]).toBe(reused0 + fresh0 + 1);
});

test('PROSE_RECYCLE=0 turns recycling off: frames come from Node', () => {
  const old = process.env.PROSE_RECYCLE;
  process.env.PROSE_RECYCLE = '0';
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const m = require('./kept-buffer.js') as typeof import('./kept-buffer.js');
      const before = recycler()?.recycleStats();
      expect(m.keptBuffer(1 << 20).length).toBe(1 << 20);
      expect(recycler()?.recycleStats().slice(1)).toEqual(before?.slice(1));
    });
  } finally {
    if (old === undefined) delete process.env.PROSE_RECYCLE;
    else process.env.PROSE_RECYCLE = old;
  }
});

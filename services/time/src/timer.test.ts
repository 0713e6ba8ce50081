import { Clock } from '@prose/clock';
import { Errno, NinepError } from '@prose/protocol';
import { FIRE_LEN, Timer, formatFire, parseFire } from './timer.js';

const MS = 1_000_000n;
let timers: Timer[] = [];
afterEach(() => {
  for (const t of timers) t.close();
  timers = [];
});

function timer(clock = new Clock()): Timer {
  const t = new Timer(clock);
  timers.push(t);
  return t;
}

test('the fire record is 78 bytes of cons(3) fields and parses back', () => {
  const f = { deadline: 123n, mono: 125n, wall: 1735787045123456789n, count: 2 };
  const s = formatFire(f);
  expect(FIRE_LEN).toBe(78);
  expect(s.length).toBe(78);
  expect(s).toBe('123'.padStart(21) + ' ' + '125'.padStart(21) + ' ' + '1735787045123456789'.padStart(21) + ' ' + '2'.padStart(11) + ' ');
  expect(parseFire(s)).toEqual(f);
});

/** The median of some numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test('a one-shot timer fires once, never before its deadline, typically within a ms of it', async () => {
  const clock = new Clock();
  const t = timer(clock);
  const round = async (): Promise<number[]> => {
    const late: number[] = [];
    for (const delay of [0n, 3n * MS, 25n * MS, 1n * MS, 7n * MS, 12n * MS, 2n * MS]) {
      const before = Date.now();
      const deadline = clock.monotonic() + delay;
      t.arm(deadline);
      const f = await t.wait();
      expect(Number(f.wall / MS)).toBeGreaterThan(before - 50);
      expect(Number(f.wall / MS)).toBeLessThan(Date.now() + 50);
      expect(f.mono >= deadline).toBe(true);
      late.push(Number(f.mono - deadline) / 1e6);
      expect(f).toMatchObject({ deadline, count: 1 });
      expect(t.armed).toBe(false);
    }
    return late;
  };
  // the median is the typical case; a loaded machine may stall a round, so up to three are tried
  let late = await round();
  for (let i = 0; i < 2 && !(median(late) < 5 && Math.max(...late) < 100); i++) late = await round();
  expect(median(late)).toBeLessThan(5);
  expect(Math.max(...late)).toBeLessThan(100);
  expect(() => t.wait()).toThrow('timer not armed');
});

test('a periodic timer counts the expirations not read', async () => {
  const clock = new Clock();
  const t = timer(clock);
  const start = clock.monotonic();
  t.arm(start + 5n * MS, 5n * MS);
  const first = await t.wait();
  expect(first.count).toBeGreaterThanOrEqual(1);
  await new Promise((r) => setTimeout(r, 32));
  const later = await t.wait();
  const periods = Number((clock.monotonic() - first.deadline) / (5n * MS));
  expect(later.count).toBeGreaterThanOrEqual(4);
  expect(later.count).toBeLessThanOrEqual(periods);
  expect((later.deadline - start) % (5n * MS)).toBe(0n);
  expect(t.status()).toMatch(/^armed \d+ period 5000000 pending 0\n$/);
});

test('cancel fails blocked reads; an aborted read leaves; close ends the timer', async () => {
  const clock = new Clock();
  const t = timer(clock);
  t.arm(clock.monotonic() + 10_000n * MS);
  const blocked = t.wait();
  const ac = new AbortController();
  const aborted = t.wait(ac.signal);
  expect(t.waiting).toBe(2);
  ac.abort(new NinepError('interrupted', Errno.EINTR));
  await expect(aborted).rejects.toMatchObject({ errno: Errno.EINTR });
  t.cancel();
  await expect(blocked).rejects.toMatchObject({ message: 'timer cancelled', errno: Errno.ECANCELED });
  expect(t.status()).toBe('idle pending 0\n');
  t.close();
  expect(() => t.arm(0n)).toThrow(/timer closed/);
});

test('re-arming replaces the deadline; a blocked read waits for the new one', async () => {
  const clock = new Clock();
  const t = timer(clock);
  t.arm(clock.monotonic() + 10_000n * MS);
  const r = t.wait();
  const d = clock.monotonic() + 5n * MS;
  t.arm(d);
  expect((await r).deadline).toBe(d);
});

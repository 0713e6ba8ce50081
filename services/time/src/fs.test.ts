import { BINTIME_LEN, TIME_LEN, decodeBintime, parseTime, type TimeSource } from '@prose/clock';
import { AbortError } from '@prose/client';
import { Errno } from '@prose/protocol';
import { buildTimeFs, type TimeFs } from './fs.js';
import { FIRE_LEN, parseFire } from './timer.js';
import { get, openPath, put, session, type Session } from '../../../test/support/in-process.js';

const VERSIONS = ['9P2000', '9P2000.u', '9P2000.L'] as const;
const MS = 1_000_000n;

function badCtl(version: string, text: string): object {
  return version === '9P2000.L' ? { errno: Errno.EINVAL } : { message: text };
}

/** `ms` (since the epoch) lies within 50 ms of the host clock read before and after it was taken. */
function expectNear(ms: bigint, before: number, after: number): void {
  expect(Number(ms)).toBeGreaterThan(before - 50);
  expect(Number(ms)).toBeLessThan(after + 50);
}

let fs: TimeFs;
let s: Session;
afterEach(() => {
  s?.client.close();
  fs?.close();
});

describe.each(VERSIONS)('time tree over %s', (version) => {
  test('the clock files: fixed formats within 50 ms of the host clock', async () => {
    fs = buildTimeFs();
    s = await session(fs, version);
    expect((await s.root.list('')).map((e) => e.name).sort()).toEqual(['bintime', 'monotonic', 'nsec', 'time', 'timer', 'wall']);
    const t = await openPath(s.root, 'time', 0);
    let before = Date.now();
    const text = await t.read(0, 8192);
    expect(text.length).toBe(TIME_LEN);
    const tp = parseTime(text);
    expectNear(tp.ns / MS, before, Date.now());
    expect(tp.sec).toBe(tp.ns / 1_000_000_000n);
    const b = await openPath(s.root, 'bintime', 0);
    before = Date.now();
    const bin = await b.read(999, 4096);
    expect(bin.length).toBe(BINTIME_LEN);
    expectNear(decodeBintime(bin).ns / MS, before, Date.now());
    before = Date.now();
    const nsec = (await s.root.readFile('nsec')).toString();
    expect(nsec).toMatch(/^ +\d+ $/);
    expect(nsec.length).toBe(22);
    expectNear(BigInt(nsec.trim()) / MS, before, Date.now());
    before = Date.now();
    const wall = (await s.root.readFile('wall')).toString();
    expect(wall).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\n$/);
    expectNear(BigInt(Date.parse(wall.trim().replace(/(\.\d{3})\d+Z$/, '$1Z'))), before, Date.now());
    const m = await openPath(s.root, 'monotonic', 0);
    let last = -1n;
    for (let i = 0; i < 20; i++) {
      const v = BigInt((await m.read(0, 100)).toString().trim());
      expect(v >= last).toBe(true);
      last = v;
    }
    await expect(openPath(s.root, 'time', 1)).rejects.toMatchObject({ errno: Errno.EACCES });
  });

  test('a timer: clone, write a deadline to ctl, read wait until it fires', async () => {
    fs = buildTimeFs();
    s = await session(fs, version);
    const ctl = await openPath(s.root, 'timer/clone', 2);
    expect(await get(ctl)).toBe('0');
    const wait = await openPath(s.root, 'timer/0/wait', 0);
    await put(ctl, 'in 20ms');
    expect((await s.root.readFile('timer/0/status')).toString()).toMatch(/^armed \d+ period 0 pending 0\n$/);
    const rec = (await wait.read(0, 100)).toString();
    expect(rec.length).toBe(FIRE_LEN);
    const f = parseFire(rec);
    expect(f.count).toBe(1);
    expect(f.mono >= f.deadline).toBe(true);
    expect(f.mono - f.deadline < 100n * MS).toBe(true);
    const now = BigInt((await s.root.readFile('monotonic')).toString().trim());
    await put(ctl, `at ${now + 10n * MS}`);
    const g = parseFire(await get(wait));
    expect(g.deadline).toBe(now + 10n * MS);
    const wallNow = BigInt((await s.root.readFile('nsec')).toString().trim());
    await put(ctl, `wall ${wallNow + 10n * MS}`);
    const h = parseFire(await get(wait));
    expect(Number(h.wall - (wallNow + 10n * MS))).toBeGreaterThanOrEqual(-1_000_000);
    expect(Number(h.wall - (wallNow + 10n * MS))).toBeLessThan(100_000_000);
    await expect(wait.read(0, 100)).rejects.toMatchObject(version === '9P2000.L' ? { errno: Errno.EINVAL } : { message: 'timer not armed' });
  });

  test('a blocked wait is cancelled by flush; cancel fails blocked reads; bad ctl names the message', async () => {
    fs = buildTimeFs();
    s = await session(fs, version);
    const ctl = await openPath(s.root, 'timer/clone', 2);
    const wait = await openPath(s.root, 'timer/0/wait', 0);
    await put(ctl, 'in 1h');
    const ac = new AbortController();
    const r = wait.read(0, 100, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(r).rejects.toBeInstanceOf(AbortError);
    const blocked = wait.read(0, 100);
    await new Promise((x) => setTimeout(x, 10));
    await put(ctl, 'cancel');
    await expect(blocked).rejects.toMatchObject(version === '9P2000.L' ? { errno: Errno.ECANCELED } : { message: 'timer cancelled' });
    await expect(put(ctl, 'in soon')).rejects.toMatchObject(badCtl(version, 'bad ctl message: bad duration "soon": "in soon"'));
    await expect(put(ctl, 'at -5')).rejects.toMatchObject(badCtl(version, 'bad ctl message: bad nanoseconds "-5": "at -5"'));
    await expect(put(ctl, 'every 10us')).rejects.toMatchObject(badCtl(version, 'bad ctl message: period under 1ms: "every 10us"'));
    await expect(put(ctl, 'sleep 5')).rejects.toMatchObject(badCtl(version, 'bad ctl message: unknown command: "sleep 5"'));
    await expect(put(ctl, 'in')).rejects.toMatchObject(badCtl(version, 'bad ctl message: in wants 1 argument: "in"'));
    expect((await s.root.readFile('timer/0/status')).toString()).toBe('idle pending 0\n');
  });
});

describe('timer lifetime and limits', () => {
  test('a timer lives while its files are open; then it is disarmed and its number reused', async () => {
    fs = buildTimeFs();
    s = await session(fs);
    const ctl = await openPath(s.root, 'timer/clone', 2);
    await put(ctl, 'every 1ms');
    const t = fs.timers.instances.get(0)!.state;
    expect(t.armed).toBe(true);
    await ctl.clunk();
    expect(fs.timers.instances.size).toBe(0);
    expect(t.armed).toBe(false);
    expect(await get(await openPath(s.root, 'timer/clone', 2))).toBe('0');
  });

  test('a periodic timer read in a loop fires every period', async () => {
    fs = buildTimeFs();
    s = await session(fs, '9P2000.L');
    const ctl = await openPath(s.root, 'timer/clone', 2);
    const wait = await openPath(s.root, 'timer/0/wait', 0);
    await put(ctl, 'every 5ms');
    const fires = [];
    for (let i = 0; i < 5; i++) fires.push(parseFire(await get(wait)));
    for (let i = 1; i < fires.length; i++) expect(fires[i]!.deadline - fires[i - 1]!.deadline).toBe(5n * MS * BigInt(fires[i]!.count));
  });

  test('maxTimers bounds the timers (EAGAIN)', async () => {
    fs = buildTimeFs({ maxTimers: 1 });
    s = await session(fs);
    await openPath(s.root, 'timer/clone', 2);
    await expect(openPath(s.root, 'timer/clone', 2)).rejects.toMatchObject({ message: 'too many timers (1)' });
  });
});

test('the clocks read the TimeSource given', async () => {
  const fake: TimeSource = { wallNs: () => 2_000_000_000_005n, monoNs: () => 9n };
  fs = buildTimeFs({ time: fake });
  s = await session(fs);
  expect(parseTime(await s.root.readFile('time'))).toMatchObject({ sec: 2000n, ns: 2_000_000_000_005n, bootNs: 0n, ticks: 0n });
  expect((await s.root.readFile('wall')).toString()).toBe('1970-01-01T00:33:20.000000005Z\n');
});

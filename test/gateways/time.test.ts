/**
 * The time gateway as a child process (services/time/dist/main.js), used through @prose/client
 * over TCP on loopback, in 9P2000 and 9P2000.L.
 */
import { BINTIME_LEN, TIME_LEN, VLNUMSIZE, decodeBintime, parseTime } from '@prose/clock';
import { AbortError, type Client } from '@prose/client';
import { startServiceProc, type ServiceProc } from '../support/child';
import { connect, healthStatus, openPath, readText, stillPending, writeText, type Version } from './cons-time-helpers';

jest.setTimeout(30000);

const MS = 1_000_000n;
let svc: ServiceProc;
const clients: Client[] = [];

async function session(version: Version) {
  const s = await connect(svc.addr, version);
  clients.push(s.client);
  return s;
}

/** A fire record: deadline, fired (monotonic), fired (wall), count. */
function fire(text: string): { deadline: bigint; mono: bigint; wall: bigint; count: number } {
  expect(text).toMatch(/^( {0,20}\d{1,21} ){3} {0,10}\d{1,11} $/);
  expect(text.length).toBe(78);
  const [d, m, w, c] = text.trim().split(/ +/);
  return { deadline: BigInt(d!), mono: BigInt(m!), wall: BigInt(w!), count: Number(c) };
}

beforeAll(async () => {
  svc = await startServiceProc('time', ['--listen', 'tcp!127.0.0.1!0', '--health', 'tcp!127.0.0.1!0', '--drain-ms', '500']);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await svc?.stop();
});

describe.each(['9P2000', '9P2000.L'] as const)('time over %s', (version) => {
  test('time is 100 bytes within 50 ms of the host clock; bintime 32 bytes at any offset, the same instant', async () => {
    const { root } = await session(version);
    const t = await openPath(root, 'time', 0);
    const b = await openPath(root, 'bintime', 0);
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      // both read in one pipelined burst: the same instant, up to the time between them
      const [text, bin] = await Promise.all([t.read(0, 8192), b.read(i * 1000 + i, 32)]);
      const after = Date.now();
      expect(text.length).toBe(TIME_LEN);
      expect(text.toString()).toMatch(/^ {0,10}\d{1,11} ( {0,20}\d{1,21} ){4}$/);
      const tp = parseTime(text);
      expect(Number(tp.ns / MS)).toBeGreaterThan(before - 50);
      expect(Number(tp.ns / MS)).toBeLessThan(after + 50);
      expect(tp.freq).toBe(1_000_000_000n);
      expect(bin.length).toBe(BINTIME_LEN);
      const bt = decodeBintime(bin);
      expect(Math.abs(Number((bt.ns - tp.ns) / MS))).toBeLessThan(50);
      expect(Math.abs(Number(bt.ns - tp.ns - (bt.bootNs - tp.bootNs)))).toBeLessThan(2_000_000);
      expect(bt.bootNs >= tp.bootNs).toBe(true);
      expect(bt.ticks >= tp.ticks).toBe(true);
    }
    expect((await t.read(12, 22)).toString()).toMatch(/^ *\d+ $/);
    expect((await b.read(0, 12)).length).toBe(8);
    const m1 = BigInt((await root.readFile('monotonic')).toString().trim());
    const m2 = BigInt((await root.readFile('monotonic')).toString().trim());
    expect(m2 >= m1).toBe(true);
    expect((await root.readFile('nsec')).length).toBe(VLNUMSIZE);
  });

  test('timers fire within a few ms of their deadline (median under 5 ms), never before it', async () => {
    const { root } = await session(version);
    const ctl = await openPath(root, 'timer/clone', 2);
    const n = await readText(ctl);
    const wait = await openPath(root, `timer/${n}/wait`, 0);
    /** One round of timers: the lateness of each (ms), sorted. */
    const round = async (): Promise<number[]> => {
      const lateness: number[] = [];
      for (const msg of ['in 15ms', 'in 1ms', 'in 30000us', 'in 0.02s', 'in 0', 'in 5ms', 'in 2.5ms']) {
        await writeText(ctl, msg);
        const t0 = Date.now();
        const f = fire(await readText(wait));
        expect(f.count).toBe(1);
        expect(f.mono >= f.deadline).toBe(true);
        lateness.push(Number(f.mono - f.deadline) / 1e6);
        expect(Date.now() - t0).toBeLessThan(1000);
      }
      const now = BigInt((await root.readFile('monotonic')).toString().trim());
      await writeText(ctl, `at ${now + 25n * MS}`);
      const f = fire(await readText(wait));
      expect(f.deadline).toBe(now + 25n * MS);
      lateness.push(Number(f.mono - f.deadline) / 1e6);
      return lateness.sort((a, b) => a - b);
    };
    // The median of a round is the typical case. A loaded machine (the whole suite runs in
    // parallel on two CPUs) can stall the service for a round: up to three rounds are tried.
    const rounds: number[][] = [];
    for (let i = 0; i < 3; i++) {
      const r = await round();
      rounds.push(r);
      if (r[Math.floor(r.length / 2)]! < 5 && r[r.length - 1]! < 100) break;
    }
    const best = rounds[rounds.length - 1]!;
    expect({ median: best[Math.floor(best.length / 2)]! < 5, max: best[best.length - 1]! < 100, rounds }).toMatchObject({ median: true, max: true });
  });

  test('a blocked timer read is cancelled by Tflush and the service stays healthy', async () => {
    const { root } = await session(version);
    const ctl = await openPath(root, 'timer/clone', 2);
    const n = await readText(ctl);
    const wait = await openPath(root, `timer/${n}/wait`, 0);
    await writeText(ctl, 'in 1h');
    const ac = new AbortController();
    const r = wait.read(0, 100, { signal: ac.signal });
    expect(await stillPending(r)).toBe(true);
    ac.abort();
    await expect(r).rejects.toBeInstanceOf(AbortError);
    expect(await healthStatus(svc.health!)).toBe('SERVING');
    expect(await healthStatus(svc.health!, 'prose.time')).toBe('SERVING');
    expect((await root.readFile(`timer/${n}/status`)).toString()).toMatch(/^armed \d+ period 0 pending 0\n$/);
    await writeText(ctl, 'in 5ms');
    expect(fire(await readText(wait)).count).toBe(1);
  });

  test('bad timer ctl messages get an error naming the message', async () => {
    const { root } = await session(version);
    const ctl = await openPath(root, 'timer/clone', 2);
    const cases: Array<[string, string]> = [
      ['in forever', 'bad ctl message: bad duration "forever": "in forever"'],
      ['at 1.5', 'bad ctl message: bad nanoseconds "1.5": "at 1.5"'],
      ['every 1us', 'bad ctl message: period under 1ms: "every 1us"'],
      ['snooze', 'bad ctl message: unknown command: "snooze"'],
      ['cancel now', 'bad ctl message: cancel wants 0 arguments: "cancel now"'],
    ];
    for (const [msg, text] of cases) {
      await expect(writeText(ctl, msg)).rejects.toMatchObject(version === '9P2000.L' ? { errno: 22 } : { message: text });
    }
  });
});

test('a periodic timer, read in a loop: deadlines a period apart, expirations counted', async () => {
  const { root } = await session('9P2000.L');
  const ctl = await openPath(root, 'timer/clone', 2);
  const n = await readText(ctl);
  const wait = await openPath(root, `timer/${n}/wait`, 0);
  await writeText(ctl, 'every 10ms');
  const t0 = Date.now();
  const first = fire(await readText(wait));
  let count = first.count;
  let last = first;
  while (count < 10) {
    const f = fire(await readText(wait));
    expect(f.mono >= f.deadline).toBe(true);
    expect(f.deadline - last.deadline).toBe(10n * MS * BigInt(f.count));
    last = f;
    count += f.count;
  }
  expect(last.deadline - first.deadline).toBe(10n * MS * BigInt(count - first.count));
  expect(Date.now() - t0).toBeLessThan(1000);
  await writeText(ctl, 'cancel');
  expect((await root.readFile(`timer/${n}/status`)).toString()).toBe('idle pending 0\n');
});

test('SIGTERM drains and exits 0 at once, even with a timer read blocked', async () => {
  // drain-ms is long on purpose: draining ends blocked timer reads at once, it does not wait.
  const one = await startServiceProc('time', ['--listen', 'tcp!127.0.0.1!0', '--health', 'none', '--drain-ms', '5000']);
  try {
    const { client, root } = await connect(one.addr, '9P2000.L');
    const ctl = await openPath(root, 'timer/clone', 2);
    const wait = await openPath(root, `timer/${await readText(ctl)}/wait`, 0);
    await writeText(ctl, 'in 1h');
    const blocked = wait.read(0, 100).catch((e: Error) => e);
    const exited = new Promise<number | null>((resolve) => one.proc.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    one.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1900);
    expect(await blocked).toBeInstanceOf(Error);
    client.close();
  } finally {
    await one.stop();
  }
});

test('SIGTERM with nothing in flight exits 0 at once', async () => {
  const one = await startServiceProc('time', ['--listen', 'tcp!127.0.0.1!0']);
  try {
    const { client, root } = await connect(one.addr, '9P2000');
    expect((await root.readFile('time')).length).toBe(TIME_LEN);
    const exited = new Promise<number | null>((resolve) => one.proc.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    one.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1000);
    client.close();
  } finally {
    await one.stop();
  }
});

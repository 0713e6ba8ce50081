/**
 * The cons gateway as a child process (services/cons/dist/main.js), used through @prose/client
 * over TCP on loopback: partitions and the operator on separate connections, in 9P2000 and
 * 9P2000.L.
 */
import { BINTIME_LEN, TIME_LEN, decodeBintime, parseTime } from '@prose/clock';
import { AbortError, type Client } from '@prose/client';
import { startServiceProc, type ServiceProc } from '../support/child';
import { connect, healthStatus, openPath, readText, stillPending, writeText, type Version } from './cons-time-helpers';

jest.setTimeout(30000);

const MS = 1_000_000n;
let svc: ServiceProc;
const clients: Client[] = [];

async function session(version: Version, uname = 'glenda') {
  const s = await connect(svc.addr, version, uname);
  clients.push(s.client);
  return s;
}

beforeAll(async () => {
  svc = await startServiceProc('cons', [
    '--listen', 'tcp!127.0.0.1!0', '--health', 'tcp!127.0.0.1!0', '--drain-ms', '500', '--sysname', 'helix', '--log-size', '4096',
  ]);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await svc?.stop();
});

describe.each(['9P2000', '9P2000.L'] as const)('cons over %s', (version) => {
  test('two partitions get isolated consoles; operator input reaches the right cons read, one line per read', async () => {
    const p1 = await session(version, 'p1');
    const p2 = await session(version, 'p2');
    const op = await session(version, 'operator');
    const ctl1 = await openPath(p1.root, 'clone', 2);
    const ctl2 = await openPath(p2.root, 'clone', 2);
    const n1 = await readText(ctl1);
    const n2 = await readText(ctl2);
    expect(n1).not.toBe(n2);
    const cons1 = await openPath(p1.root, `${n1}/cons`, 2);
    const cons2 = await openPath(p2.root, `${n2}/cons`, 2);

    const read1 = readText(cons1);
    const ac = new AbortController();
    const read2 = readText(cons2, 8192, ac.signal);
    expect(await stillPending(read1)).toBe(true);
    const in1 = await openPath(op.root, `${n1}/operator/in`, 1);
    await writeText(in1, 'echo one\necho two\n');
    expect(await read1).toBe('echo one\n');
    expect(await readText(cons1)).toBe('echo two\n');
    expect(await stillPending(read2)).toBe(true);
    ac.abort();
    await expect(read2).rejects.toBeInstanceOf(AbortError);

    await writeText(cons1, 'one\n');
    await writeText(cons2, 'two\n');
    const out1 = await openPath(op.root, `${n1}/operator/out`, 0);
    const out2 = await openPath(op.root, `${n2}/operator/out`, 0);
    expect(await readText(out1)).toBe('one\n');
    expect(await readText(out2)).toBe('two\n');
    const follow = readText(out1);
    expect(await stillPending(follow)).toBe(true);
    await writeText(cons1, 'later\n');
    expect(await follow).toBe('later\n');
    await writeText(ctl1, 'hangup');
    await writeText(ctl2, 'hangup');
  });

  test('raw mode through consctl: reads return the bytes there are; closing consctl restores lines', async () => {
    const p = await session(version);
    const ctl = await openPath(p.root, 'clone', 2);
    const n = await readText(ctl);
    const cons = await openPath(p.root, `${n}/cons`, 0);
    const consctl = await openPath(p.root, `${n}/consctl`, 1);
    const inp = await openPath(p.root, `${n}/operator/in`, 1);
    await writeText(consctl, 'rawon');
    const r = readText(cons);
    await writeText(inp, 'k');
    expect(await r).toBe('k');
    await writeText(inp, 'ab\x7f');
    expect(await readText(cons)).toBe('ab\x7f');
    await consctl.clunk();
    await writeText(inp, 'no newline yet');
    const line = readText(cons);
    expect(await stillPending(line)).toBe(true);
    await writeText(inp, '\n');
    expect(await line).toBe('no newline yet\n');
    await writeText(ctl, 'hangup');
  });

  test('time is 100 bytes within 50 ms of the host; bintime is 32 bytes, offset-independent, the same instant', async () => {
    const p = await session(version);
    const ctl = await openPath(p.root, 'clone', 2);
    const n = await readText(ctl);
    for (const dir of [`${n}/`, '']) {
      const t = await openPath(p.root, `${dir}time`, 0);
      const before = Date.now();
      const text = await t.read(0, 4096);
      const after = Date.now();
      expect(text.length).toBe(TIME_LEN);
      expect(text.toString()).toMatch(/^ {0,10}\d{1,11} ( {0,20}\d{1,21} ){4}$/);
      const tp = parseTime(text);
      const ms = Number(tp.ns / MS);
      expect(ms).toBeGreaterThan(before - 50);
      expect(ms).toBeLessThan(after + 50);
      expect(tp.sec).toBe(tp.ns / 1_000_000_000n);
      const b = await openPath(p.root, `${dir}bintime`, 0);
      for (const offset of [0, 8, 31, 1 << 20]) {
        // both read in one pipelined burst: the same instant, up to the time between them
        const [tt, bin] = await Promise.all([t.read(0, 4096), b.read(offset, 64)]);
        expect(bin.length).toBe(BINTIME_LEN);
        const t2 = parseTime(tt);
        const bt = decodeBintime(bin);
        expect(Math.abs(Number((bt.ns - t2.ns) / MS))).toBeLessThan(50);
        expect(Math.abs(Number(bt.ns - t2.ns - (bt.bootNs - t2.bootNs)))).toBeLessThan(2_000_000);
        expect(bt.freq).toBe(tp.freq);
        expect(bt.bootNs >= tp.bootNs).toBe(true);
      }
      expect((await b.read(0, 15)).length).toBe(8);
    }
    expect(await readText(await openPath(p.root, `${n}/sysname`, 0))).toBe('helix');
    expect(await readText(await openPath(p.root, `${n}/user`, 0))).toBe('glenda');
    const rnd = await openPath(p.root, `${n}/random`, 0);
    expect((await rnd.read(0, 32)).equals(await rnd.read(0, 32))).toBe(false);
    await writeText(ctl, 'hangup');
  });

  test('a blocked cons read is cancelled by Tflush and the service stays healthy', async () => {
    const p = await session(version);
    const ctl = await openPath(p.root, 'clone', 2);
    const n = await readText(ctl);
    const cons = await openPath(p.root, `${n}/cons`, 0);
    const ac = new AbortController();
    const r = cons.read(0, 100, { signal: ac.signal });
    expect(await stillPending(r)).toBe(true);
    ac.abort();
    await expect(r).rejects.toBeInstanceOf(AbortError);
    expect(await healthStatus(svc.health!)).toBe('SERVING');
    expect(await healthStatus(svc.health!, 'prose.cons')).toBe('SERVING');
    await writeText(await openPath(p.root, `${n}/operator/in`, 1), 'after flush\n');
    expect(await readText(cons)).toBe('after flush\n');
    await writeText(ctl, 'hangup');
  });
});

test('the operator follows output past the ring: a reader that fell behind gets a marker (--log-size 4096)', async () => {
  const p = await session('9P2000.L');
  const ctl = await openPath(p.root, 'clone', 2);
  const n = await readText(ctl);
  const cons = await openPath(p.root, `${n}/cons`, 1);
  const out = await openPath(p.root, `${n}/operator/out`, 0);
  await writeText(cons, 'a'.repeat(3000));
  await writeText(cons, 'b'.repeat(3000));
  expect(await readText(out)).toBe('\n[lost 1904 bytes]\n');
  const rest = await readText(out, 8192);
  expect(rest).toBe('a'.repeat(1096) + 'b'.repeat(3000));
  await writeText(ctl, 'hangup');
});

test('SIGTERM drains and exits 0, even with a cons read blocked: the read gets end of file', async () => {
  // drain-ms is long on purpose: draining ends blocked console reads at once, it does not wait.
  const one = await startServiceProc('cons', ['--listen', 'tcp!127.0.0.1!0', '--health', 'none', '--drain-ms', '5000']);
  try {
    const { client, root } = await connect(one.addr, '9P2000');
    const ctl = await openPath(root, 'clone', 2);
    const cons = await openPath(root, `${await readText(ctl)}/cons`, 0);
    const blocked = cons.read(0, 100).catch((e: Error) => e);
    // The read must be blocked in the service before SIGTERM, or it races the signal.
    expect(await stillPending(blocked, 100)).toBe(true);
    const exited = new Promise<number | null>((resolve) => one.proc.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    one.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1900);
    const got = await blocked;
    expect(Buffer.isBuffer(got) ? got.length : got).toBe(0);
    client.close();
  } finally {
    await one.stop();
  }
});

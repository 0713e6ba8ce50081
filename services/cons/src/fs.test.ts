import { decodeBintime, parseTime, TIME_LEN, type TimeSource } from '@prose/clock';
import { AbortError } from '@prose/client';
import { Errno } from '@prose/protocol';
import { buildConsFs, type ConsFs } from './fs.js';
import { lostMarker } from './ring.js';
import { get, openPath, put, session, type Session } from '../../../test/support/in-process.js';

const VERSIONS = ['9P2000', '9P2000.u', '9P2000.L'] as const;

/** What a bad ctl write rejects with: 9P2000 carries the text, .L only the errno. */
function badCtl(version: string, text: string): object {
  return version === '9P2000.L' ? { errno: Errno.EINVAL } : { message: text };
}

function pending<T>(p: Promise<T>, ms = 40): Promise<boolean> {
  return Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
}

/** `ns` (since the epoch) lies within 50 ms of the host clock read before and after it was taken. */
function expectNear(ns: bigint, before: number, after: number): void {
  const ms = Number(ns / 1_000_000n);
  expect(ms).toBeGreaterThan(before - 50);
  expect(ms).toBeLessThan(after + 50);
}

let fs: ConsFs;
let s: Session;

afterEach(() => {
  s?.client.close();
  fs?.close();
});

/** Opens clone: returns the ctl fid and the console number. */
async function newConsole(sess: Session): Promise<{ ctl: Awaited<ReturnType<typeof openPath>>; n: string }> {
  const ctl = await openPath(sess.root, 'clone', 2);
  return { ctl, n: await get(ctl) };
}

describe.each(VERSIONS)('cons tree over %s', (version) => {
  test('clone makes consoles 0, 1, ... with the cons(3) files and an operator side', async () => {
    fs = buildConsFs({ sysname: 'helix' });
    s = await session(fs, version);
    const a = await newConsole(s);
    const b = await newConsole(s);
    expect([a.n, b.n]).toEqual(['0', '1']);
    const names = (await s.root.list('0')).map((e) => e.name).sort();
    expect(names).toEqual(['bintime', 'cons', 'consctl', 'ctl', 'null', 'operator', 'random', 'sysname', 'time', 'user', 'zero']);
    expect((await s.root.list('0/operator')).map((e) => e.name).sort()).toEqual(['in', 'out']);
    expect((await s.root.list('')).map((e) => e.name).sort()).toEqual(
      ['0', '1', 'bintime', 'clone', 'null', 'random', 'status', 'sysname', 'time', 'zero'],
    );
    expect((await s.root.readFile('status')).toString()).toBe(
      '0 cooked input 0 output 0 readers 0 followers 0 open 1\n1 cooked input 0 output 0 readers 0 followers 0 open 1\n',
    );
  });

  test('operator input reaches the cons read, one line per read; two consoles are isolated', async () => {
    fs = buildConsFs({ sysname: 'helix' });
    s = await session(fs, version);
    await newConsole(s);
    await newConsole(s);
    const cons0 = await openPath(s.root, '0/cons', 2);
    const cons1 = await openPath(s.root, '1/cons', 2);
    const in0 = await openPath(s.root, '0/operator/in', 1);
    const blocked = get(cons0);
    expect(await pending(blocked)).toBe(true);
    await put(in0, 'date\nls -l\n');
    expect(await blocked).toBe('date\n');
    expect(await get(cons0)).toBe('ls -l\n');
    const ac = new AbortController();
    const other = get(cons1, 8192, 0, ac.signal);
    expect(await pending(other)).toBe(true);
    ac.abort();
    await expect(other).rejects.toBeInstanceOf(AbortError);
    await put(cons0, 'only zero\n');
    await put(cons1, 'only one\n');
    expect(await get(await openPath(s.root, '0/operator/out', 0))).toBe('only zero\n');
    expect(await get(await openPath(s.root, '1/operator/out', 0))).toBe('only one\n');
  });

  test('raw mode: rawon makes reads return what is there; closing consctl ends raw mode', async () => {
    fs = buildConsFs({ sysname: 'helix' });
    s = await session(fs, version);
    await newConsole(s);
    const cons = await openPath(s.root, '0/cons', 0);
    const inp = await openPath(s.root, '0/operator/in', 1);
    const consctl = await openPath(s.root, '0/consctl', 1);
    await put(consctl, 'rawon');
    await put(inp, 'ab');
    await put(inp, 'c\b');
    expect(await get(cons)).toBe('abc\b');
    expect((await s.root.readFile('status')).toString()).toMatch(/^0 raw /);
    await expect(put(consctl, 'rawish')).rejects.toMatchObject(badCtl(version, 'bad ctl message: unknown command: "rawish"'));
    await consctl.clunk();
    await put(inp, 'x\by');
    const r = get(cons);
    expect(await pending(r)).toBe(true);
    await put(inp, '\n');
    expect(await r).toBe('y\n');
  });

  test('operator/out replays what is kept, then follows; a follower that fell behind gets a marker', async () => {
    fs = buildConsFs({ sysname: 'helix', logSize: 16 });
    s = await session(fs, version);
    await newConsole(s);
    const cons = await openPath(s.root, '0/cons', 1);
    await put(cons, 'hello\n');
    const out = await openPath(s.root, '0/operator/out', 0);
    expect(await get(out)).toBe('hello\n');
    const next = get(out);
    expect(await pending(next)).toBe(true);
    await put(cons, 'world\n');
    expect(await next).toBe('world\n');
    await put(cons, '0123456789abcdefXYZ');
    expect(await get(out)).toBe(lostMarker(3));
    expect(await get(out)).toBe('3456789abcdefXYZ');
    const late = await openPath(s.root, '0/operator/out', 0);
    expect(await get(late, 4)).toBe('3456');
  });

  test('time and bintime: fixed formats; each console has its own clock, the root has the host\'s', async () => {
    fs = buildConsFs({ sysname: 'helix' });
    s = await session(fs, version);
    await newConsole(s);
    await newConsole(s);
    const t = await openPath(s.root, '0/time', 2);
    const host = Date.now();
    const text = await t.read(0, 8192);
    expect(text.length).toBe(TIME_LEN);
    const parsed = parseTime(text);
    expectNear(parsed.ns, host, Date.now());
    expect(parsed.freq).toBe(1_000_000_000n);
    expect((await t.read(88, 100)).length).toBe(12);
    await t.write(0, Buffer.from('1000000000\n'));
    expect(parseTime(await t.read(0, 100)).sec).toBe(1000000000n);
    const t1 = Date.now();
    const other = parseTime(await s.root.readFile('1/time'));
    expectNear(other.ns, t1, Date.now());
    const bin = await openPath(s.root, '0/bintime', 2);
    const set = Buffer.alloc(9);
    set.write('n');
    set.writeBigInt64BE(5_000_000_000_000_000_000n, 1);
    await bin.write(0, set);
    const b = await bin.read(12345, 32);
    expect(b.length).toBe(32);
    expect(Number(decodeBintime(b).ns - 5_000_000_000_000_000_000n)).toBeLessThan(50_000_000);
    expect((await bin.read(0, 20)).length).toBe(16);
    await expect(bin.write(0, Buffer.from('q'))).rejects.toMatchObject(badCtl(version, 'bad time control: unknown op "q"'));
    const rootBin = await openPath(s.root, 'bintime', 0);
    const t2 = Date.now();
    expectNear(decodeBintime(await rootBin.read(0, 32)).ns, t2, Date.now());
    await expect(openPath(s.root, 'time', 2)).rejects.toMatchObject({ errno: Errno.EACCES });
  });

  test('sysname, user, random, null and zero', async () => {
    fs = buildConsFs({ sysname: 'helix' });
    s = await session(fs, version, 'glenda');
    await newConsole(s);
    await newConsole(s);
    const sn = await openPath(s.root, '0/sysname', 2);
    expect(await get(sn)).toBe('helix');
    await put(sn, 'gnot\n');
    expect(await get(sn)).toBe('gnot');
    expect((await s.root.readFile('1/sysname')).toString()).toBe('helix');
    expect((await s.root.readFile('sysname')).toString()).toBe('helix');
    expect((await s.root.readFile('0/user')).toString()).toBe('glenda');
    const rnd = await openPath(s.root, '0/random', 0);
    const r1 = await rnd.read(0, 64);
    const r2 = await rnd.read(0, 64);
    expect(r1.length).toBe(64);
    expect(r1.equals(r2)).toBe(false);
    const nul = await openPath(s.root, '0/null', 2);
    expect(await nul.write(0, Buffer.alloc(1000, 1))).toBe(1000);
    expect((await nul.read(0, 100)).length).toBe(0);
    const zero = await openPath(s.root, '0/zero', 0);
    const z = await zero.read(1 << 20, 5000);
    expect(z.length).toBe(5000);
    expect(z.every((x) => x === 0)).toBe(true);
  });

  test('hangup frees the console: blocked reads end, the directory goes, the number is reused', async () => {
    fs = buildConsFs({ sysname: 'helix' });
    s = await session(fs, version);
    const { ctl } = await newConsole(s);
    const cons = await openPath(s.root, '0/cons', 2);
    const out = await openPath(s.root, '0/operator/out', 0);
    const reading = get(cons);
    const following = get(out);
    await expect(put(ctl, 'hangup now')).rejects.toMatchObject(badCtl(version, 'bad ctl message: hangup wants 0 arguments: "hangup now"'));
    await expect(put(ctl, 'frob')).rejects.toMatchObject(badCtl(version, 'bad ctl message: unknown command: "frob"'));
    await put(ctl, 'hangup');
    expect(await reading).toBe('');
    expect(await following).toBe('');
    await expect(put(cons, 'late')).rejects.toMatchObject({ errno: Errno.EPIPE });
    await expect(s.root.walk('0')).rejects.toThrow();
    expect((await newConsole(s)).n).toBe('0');
  });
});

describe('console lifetime and limits', () => {
  test('linger 0: freed when its last file is closed', async () => {
    fs = buildConsFs({ sysname: 'h', lingerMs: 0 });
    s = await session(fs);
    const { ctl } = await newConsole(s);
    const cons = await openPath(s.root, '0/cons', 2);
    await ctl.clunk();
    expect(fs.console(0)).toBeDefined();
    await cons.clunk();
    expect(fs.console(0)).toBeUndefined();
  });

  test('linger: kept while closed for lingerMs, so a partition can come back; then freed', async () => {
    // only setTimeout is faked: the in-process transport and the client run on setImmediate
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance', 'Date'] });
    try {
      fs = buildConsFs({ sysname: 'h', lingerMs: 1000 });
      s = await session(fs);
      const { ctl } = await newConsole(s);
      const cons = await openPath(s.root, '0/cons', 1);
      await put(cons, 'before\n');
      await cons.clunk();
      await ctl.clunk();
      jest.advanceTimersByTime(999);
      const out = await openPath(s.root, '0/operator/out', 0);
      expect(await get(out)).toBe('before\n');
      jest.advanceTimersByTime(5000);
      expect(fs.console(0)).toBeDefined();
      await out.clunk();
      jest.advanceTimersByTime(999);
      expect(fs.console(0)).toBeDefined();
      jest.advanceTimersByTime(1);
      expect(fs.console(0)).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  test('maxConsoles bounds the consoles (EAGAIN)', async () => {
    fs = buildConsFs({ sysname: 'h', maxConsoles: 2 });
    s = await session(fs);
    await newConsole(s);
    await newConsole(s);
    await expect(openPath(s.root, 'clone', 2)).rejects.toMatchObject({ message: 'too many consoles (2)' });
  });

  test('input beyond inputSize is refused whole', async () => {
    fs = buildConsFs({ sysname: 'h', inputSize: 4 });
    s = await session(fs, '9P2000.L');
    await newConsole(s);
    const inp = await openPath(s.root, '0/operator/in', 1);
    await put(inp, 'abc');
    await expect(put(inp, 'de')).rejects.toMatchObject({ errno: Errno.EAGAIN });
  });

  test('with an operator set, only the operator may use operator/', async () => {
    fs = buildConsFs({ sysname: 'h', operator: 'oper' });
    s = await session(fs, '9P2000', 'glenda');
    await newConsole(s);
    const opdir = await s.root.walk('0/operator');
    await expect(opdir.walk('in')).rejects.toMatchObject({ errno: Errno.EACCES });
    await expect(opdir.open(0)).rejects.toMatchObject({ errno: Errno.EACCES });
    const op = await session(fs, '9P2000', 'oper');
    try {
      await put(await openPath(op.root, '0/operator/in', 1), 'hi\n');
      expect(await get(await openPath(s.root, '0/cons', 0))).toBe('hi\n');
    } finally {
      op.client.close();
    }
  });

  test('close frees every console: blocked reads get end of file', async () => {
    fs = buildConsFs({ sysname: 'h' });
    s = await session(fs);
    await newConsole(s);
    const r = get(await openPath(s.root, '0/cons', 0));
    fs.close();
    expect(await r).toBe('');
  });
});

test('the clocks read the TimeSource given', async () => {
  const fake: TimeSource = { wallNs: () => 1_000_000_000_123n, monoNs: () => 7n };
  fs = buildConsFs({ sysname: 'h', time: fake });
  s = await session(fs);
  await newConsole(s);
  expect(parseTime(await s.root.readFile('0/time'))).toMatchObject({ sec: 1000n, ns: 1_000_000_000_123n, bootNs: 0n });
});

import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import { MsgType, decode, encode, encodeVec } from '@prose/protocol';
import type { Conn } from './conn.js';
import { connPair } from './pair.js';
import { dial, listen } from './net.js';
import { parseDialString } from './dialstring.js';

/** Collects frames and the close reason of a Conn. */
function collect(c: Conn) {
  const frames: Buffer[] = [];
  let closed: { err?: Error } | undefined;
  const waiters: Array<() => void> = [];
  c.start({
    frame: (f) => { frames.push(Buffer.from(f)); waiters.splice(0).forEach((w) => w()); },
    close: (err) => { closed = { err }; waiters.splice(0).forEach((w) => w()); },
  });
  const until = async (pred: () => boolean) => { while (!pred()) await new Promise<void>((r) => waiters.push(r)); };
  return { frames, get closed() { return closed; }, until };
}

const write = (i: number, size = 5) =>
  ({ type: MsgType.Twrite, tag: i & 0xffff, fid: 1, offset: i, data: Buffer.alloc(size, i & 0xff) }) as const;

describe('dial strings', () => {
  test('parse tcp, unix, bracketed IPv6', () => {
    expect(parseDialString('tcp!127.0.0.1!564')).toEqual({ net: 'tcp', host: '127.0.0.1', port: 564 });
    expect(parseDialString('tcp!::1!564')).toEqual({ net: 'tcp', host: '::1', port: 564 });
    expect(parseDialString('tcp![::1]!564')).toEqual({ net: 'tcp', host: '::1', port: 564 });
    expect(parseDialString('unix!/run/x.sock')).toEqual({ net: 'unix', path: '/run/x.sock' });
  });
  test.each(['tcp!host', 'tcp!h!99999', 'udp!h!1', 'noBang', 'unix!', 'tcp!!5'])('rejects %s with a reason', (s) => {
    expect(() => parseDialString(s)).toThrow(/bad dial string/);
  });
});

// `dialed`: the receiving end is the one `dial` made (it reads into a SlabReader); otherwise the
// accepted one (Node 'data' chunks and a Framer).
describe.each([
  ['tcp', false], ['tcp', true], ['unix', false], ['unix', true], ['pair', false],
] as const)('%s conn (receiver dialed: %s)', (kind, dialed) => {
  let dir: string;
  let pairs: Array<[Conn, Conn]> = [];
  let closers: Array<() => Promise<void>> = [];
  beforeAll(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-transport-')); });
  afterEach(async () => {
    // An end never started stays paused and would not see its peer's close: start it first.
    for (const c of pairs.flat()) if (!started.has(c)) c.start({ frame: () => {}, close: () => {} });
    for (const [a, b] of pairs) { a.close(); b.close(); }
    pairs = [];
    for (const c of closers) await c();
    closers = [];
  });
  afterAll(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  const started = new WeakSet<Conn>();
  function track(c: Conn): Conn {
    const start = c.start.bind(c);
    c.start = (h) => { started.add(c); start(h); };
    return c;
  }

  async function open(): Promise<[Conn, Conn]> {
    if (kind === 'pair') { const p = connPair(); track(p[0]); track(p[1]); pairs.push(p); return p; }
    const addr = kind === 'tcp' ? 'tcp!127.0.0.1!0' : `unix!${path.join(dir, `s${Math.random().toString(36).slice(2)}`)}`;
    let accepted!: (c: Conn) => void;
    const got = new Promise<Conn>((r) => (accepted = r));
    const l = await listen(addr, (c) => accepted(c));
    closers.push(() => l.close());
    const client = track(await dial(l.addr));
    const server = track(await got);
    pairs.push([client, server]);
    return dialed ? [server, client] : [client, server];
  }

  test('frames arrive whole and in order, vectors unconcatenated on the wire', async () => {
    const [a, b] = await open();
    const rx = collect(b);
    for (let i = 0; i < 200; i++) a.send(i % 2 ? encodeVec(write(i, i * 37), '9P2000') : encode(write(i, i), '9P2000'));
    await rx.until(() => rx.frames.length === 200);
    rx.frames.forEach((f, i) => {
      const m = decode(f, '9P2000');
      expect(m).toMatchObject({ type: MsgType.Twrite, offset: i });
      if (m.type === MsgType.Twrite) expect(m.data.length).toBe(i % 2 ? i * 37 : i);
    });
  });

  test('frames of every size, sent in bursts, arrive whole and in order', async () => {
    const [a, b] = await open();
    const rx = collect(b);
    const sizes = [0, 1, 100, 4000, 16 << 10, 70000, 3, 200000, 7, 1 << 20, 64 << 10, 5];
    let n = 0;
    for (let round = 0; round < 3; round++) {
      for (const s of sizes) a.send(encodeVec(write(n++, s), '9P2000.L'));
      await new Promise((r) => setImmediate(r));
    }
    await rx.until(() => rx.frames.length === n);
    rx.frames.forEach((f, i) => {
      const m = decode(f, '9P2000.L');
      expect(m.type === MsgType.Twrite && m.offset === i && m.data.length === sizes[i % sizes.length] && m.data.every((x) => x === (i & 0xff))).toBe(true);
    });
  });

  test('a frame the handler keeps (a view) stays intact while more arrive', async () => {
    const [a, b] = await open();
    const views: Buffer[] = [];
    let got = 0;
    const waiters: Array<() => void> = [];
    b.start({ frame: (f) => { views.push(f); got++; waiters.splice(0).forEach((w) => w()); }, close: () => {} });
    const total = 3000;
    for (let i = 0; i < total; i++) {
      a.send(encodeVec(write(i, (i * 131) % 5000), '9P2000.L'));
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    while (got < total) await new Promise<void>((r) => waiters.push(r));
    views.forEach((f, i) => {
      const m = decode(f, '9P2000.L');
      expect(m.type === MsgType.Twrite && m.offset === i && m.data.length === (i * 131) % 5000 && m.data.every((x) => x === (i & 0xff))).toBe(true);
    });
  });

  test('a 4 MiB frame crosses intact', async () => {
    const [a, b] = await open();
    const rx = collect(b);
    const big = Buffer.alloc(4 << 20);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    a.send(encodeVec({ type: MsgType.Twrite, tag: 1, fid: 1, offset: 0, data: big }, '9P2000.L'));
    await rx.until(() => rx.frames.length === 1);
    const m = decode(rx.frames[0]!, '9P2000.L');
    expect(m.type === MsgType.Twrite && m.data.equals(big)).toBe(true);
  });

  test('an oversized frame closes the receiving end with a reason', async () => {
    const [a, b] = await open();
    b.setMaxFrame(64);
    const rx = collect(b);
    a.send(encode(write(1, 100), '9P2000'));
    await rx.until(() => rx.closed !== undefined);
    expect(rx.closed!.err?.message).toMatch(/exceeds msize 64|outside 7\.\.64/);
  });

  test('pause holds frames until resume, order kept', async () => {
    const [a, b] = await open();
    const rx = collect(b);
    b.pause();
    for (let i = 0; i < 10; i++) a.send(encode(write(i), '9P2000'));
    await new Promise((r) => setTimeout(r, 50));
    expect(rx.frames.length).toBe(0);
    b.resume();
    await rx.until(() => rx.frames.length === 10);
    expect(rx.frames.map((f) => decode(f, '9P2000')).map((m) => (m as { offset: number }).offset)).toEqual([...Array(10).keys()]);
  });

  test('close is seen by both ends; send after close returns false', async () => {
    const [a, b] = await open();
    const ra = collect(a);
    const rb = collect(b);
    a.close();
    await rb.until(() => rb.closed !== undefined);
    await ra.until(() => ra.closed !== undefined);
    expect(rb.closed!.err).toBeUndefined();
    expect(a.send(encode(write(1), '9P2000'))).toBe(false);
    expect(a.closed && b.closed).toBe(true);
  });
});

test('tcp send reports backpressure and drain() resolves once the peer reads', async () => {
  let accepted!: (c: Conn) => void;
  const got = new Promise<Conn>((r) => (accepted = r));
  const l = await listen('tcp!127.0.0.1!0', (c) => accepted(c));
  const a = await dial(l.addr);
  const b = await got;
  try {
    b.pause();
    const rx = collect(b);
    const frame = encode(write(1, 1 << 20), '9P2000');
    // Fill the kernel buffers too: keep sending while drain() still resolves quickly.
    let sent = 0;
    let d: Promise<void> = Promise.resolve();
    let drained = true;
    while (drained && sent < 256) {
      expect(a.send(frame)).toBe(false);
      sent++;
      drained = false;
      d = a.drain().then(() => { drained = true; });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(drained).toBe(false);
    expect(rx.frames.length).toBe(0);
    b.resume();
    await d;
    await rx.until(() => rx.frames.length === sent);
    expect(rx.frames.length).toBe(sent);
  } finally {
    a.close(); b.close(); await l.close();
  }
});

test('a stale unix socket file is replaced; a live one is refused', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-unix-'));
  const p = path.join(dir, 'stale.sock');
  try {
    const raw = net.createServer();
    await new Promise<void>((r) => raw.listen(p, r));
    await expect(listen(`unix!${p}`, () => {})).rejects.toThrow(/address already in use/);
    // Simulate a crash: the file stays, nobody listens.
    await new Promise<void>((r) => { (raw as unknown as { _handle: { close(): void } })._handle.close(); r(); });
    await fsp.writeFile(p + '.x', '');
    const l = await listen(`unix!${p}`, () => {});
    await l.close();
    raw.close();
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('dial to a closed port fails with ECONNREFUSED', async () => {
  const l = await listen('tcp!127.0.0.1!0', () => {});
  const addr = l.addr;
  await l.close();
  await expect(dial(addr)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

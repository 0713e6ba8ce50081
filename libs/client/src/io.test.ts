import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MsgType, packDirents, type Dialect, type TMessage } from '@prose/protocol';
import type { Conn, ConnHandler } from '@prose/transport';
import { Client, type ConnectOptions } from './index.js';
import { fakeServer, type FakeOptions, type FakeServer } from './test-server.js';

/** A Conn that records what the client hands to `send`, to check that payloads are not copied. */
class Spy implements Conn {
  readonly sent: Array<Buffer | readonly Buffer[]> = [];
  constructor(private readonly inner: Conn) {}
  get remote() { return this.inner.remote; }
  get local() { return this.inner.local; }
  get closed() { return this.inner.closed; }
  start(h: ConnHandler) { this.inner.start(h); }
  send(frame: Buffer | readonly Buffer[]) {
    this.sent.push(frame);
    return this.inner.send(frame);
  }
  drain() { return this.inner.drain(); }
  pause() { this.inner.pause(); }
  resume() { this.inner.resume(); }
  setMaxFrame(n: number) { this.inner.setMaxFrame(n); }
  close(err?: Error) { this.inner.close(err); }
}

async function setup(opts: FakeOptions = {}, copts: ConnectOptions = {}) {
  const { server, conn } = fakeServer({ msize: 8192 + 24, order: 'reverse', ...opts });
  const spy = new Spy(conn);
  const client = await Client.connect(spy, copts);
  const root = await client.attach({ uname: 'glenda' });
  return { server, client, root, spy };
}

function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function ofType<K extends MsgType>(s: FakeServer, type: K): Array<Extract<TMessage, { type: K }>> {
  return s.received.filter((t) => t.type === type) as Array<Extract<TMessage, { type: K }>>;
}

describe('readFile', () => {
  test('reads a 1 MiB file in msize-IOHDRSZ pieces with a window of requests in flight', async () => {
    const { server, client } = await setup();
    const data = pattern(1 << 20);
    server.add('big', data);
    server.maxOutstanding = 0;
    const got = await client.readFile('big', { window: 6 });
    expect(got.equals(data)).toBe(true);
    const reads = ofType(server, MsgType.Tread);
    expect(reads.every((r) => r.count === 8192)).toBe(true);
    // 128 full pieces, then one window of reads past the end (the first empty one ends it).
    expect(reads.length).toBe(128 + 6);
    expect(server.maxOutstanding).toBe(6);
    expect(server.fidCount).toBe(1);
  });

  test('uses the iounit of the open reply when the server gives one', async () => {
    const { server, client } = await setup({ iounit: 1000 });
    server.add('f', pattern(5500));
    const got = await client.readFile('f');
    expect(got.equals(pattern(5500))).toBe(true);
    expect(new Set(ofType(server, MsgType.Tread).map((r) => r.count))).toEqual(new Set([1000]));
  });

  test('a short read in the middle drops what was in flight and resumes after it', async () => {
    const { server, client } = await setup({ order: 'now' });
    const data = pattern(100_000);
    server.add('f', data);
    let shortened = false;
    server.hook = (t) => {
      if (t.type === MsgType.Tread && t.offset === 16384 && !shortened) {
        shortened = true;
        return { type: MsgType.Rread, tag: t.tag, data: data.subarray(16384, 16384 + 100) };
      }
      return undefined;
    };
    const got = await client.readFile('f');
    expect(got.equals(data)).toBe(true);
    expect(ofType(server, MsgType.Tread).some((r) => r.offset === 16484)).toBe(true);
  });

  test('an empty file reads as empty; a missing one rejects with ENOENT and leaks no fid', async () => {
    const { server, client } = await setup();
    server.add('empty', '');
    expect((await client.readFile('empty')).length).toBe(0);
    await expect(client.readFile('nope')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(server.fidCount).toBe(1);
  });
});

describe('writeFile', () => {
  test('creates a file and writes it in ioSize pieces, window in flight, payloads as views of the data', async () => {
    const { server, client, spy } = await setup();
    const data = pattern(300_000, 7);
    server.maxOutstanding = 0;
    await client.writeFile('dir/new', data).catch(() => undefined); // dir missing: ENOENT
    server.add('dir', null);
    await client.writeFile('dir/new', data, { window: 5 });
    expect(server.lookup('dir/new')!.data.equals(data)).toBe(true);
    const writes = ofType(server, MsgType.Twrite);
    expect(writes.length).toBe(Math.ceil(300_000 / 8192));
    expect(writes.every((w) => w.data.length <= 8192)).toBe(true);
    expect(server.maxOutstanding).toBe(5);
    expect(ofType(server, MsgType.Tlcreate)).toHaveLength(1);
    // Zero copy: each Twrite went to the Conn as [header, view of `data`].
    const payloads = spy.sent.filter((f) => Array.isArray(f) && f.length === 2).map((f) => (f as Buffer[])[1]!);
    expect(payloads.length).toBe(writes.length);
    for (const p of payloads) expect(p.buffer).toBe(data.buffer);
    expect(server.fidCount).toBe(1);
  });

  test('truncates an existing file', async () => {
    const { server, client } = await setup();
    server.add('f', 'a much longer old content');
    await client.writeFile('f', 'new');
    expect(server.lookup('f')!.data.toString()).toBe('new');
    expect(ofType(server, MsgType.Tlopen).pop()!.flags & 0o1000).toBe(0o1000);
  });

  test('re-sends the rest of a short write', async () => {
    const { server, client } = await setup({ order: 'now' });
    server.add('f', '');
    let cut = false;
    server.hook = (t) => {
      if (t.type === MsgType.Twrite && t.offset === 8192 && !cut) {
        cut = true;
        const n = 1000;
        const node = server.lookup('f')!;
        const grown = Buffer.alloc(Math.max(node.data.length, t.offset + n));
        node.data.copy(grown);
        t.data.copy(grown, t.offset, 0, n);
        node.data = grown;
        return { type: MsgType.Rwrite, tag: t.tag, count: n };
      }
      return undefined;
    };
    const data = pattern(30_000, 3);
    await client.writeFile('f', data);
    expect(server.lookup('f')!.data.equals(data)).toBe(true);
    expect(ofType(server, MsgType.Twrite).some((w) => w.offset === 9192)).toBe(true);
  });
});

describe('streams', () => {
  test('createReadStream yields the file in order and stops reading when the consumer does not read', async () => {
    const { server, client } = await setup();
    const data = pattern(1 << 20, 9);
    server.add('f', data);
    const s = client.createReadStream('f', { window: 4, highWaterMark: 16 * 1024 });
    await new Promise((r) => s.once('readable', r));
    await new Promise((r) => setTimeout(r, 20));
    // Paused consumer: only about highWaterMark + window pieces were asked for, not the 128 of the file.
    const early = ofType(server, MsgType.Tread).length;
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThanOrEqual(8);
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(server.fidCount).toBe(1); // autoClunk
  });

  test('createReadStream honours start and end (inclusive)', async () => {
    const { server, root } = await setup();
    const data = pattern(50_000, 2);
    server.add('f', data);
    const f = await (await root.walk('f')).lopen(0);
    const chunks: Buffer[] = [];
    for await (const c of f.createReadStream({ start: 1000, end: 40_999 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(1000, 41_000))).toBe(true);
    expect(f.clunked).toBe(false);
  });

  test('createWriteStream writes every chunk in order, joins small ones, keeps at most window in flight', async () => {
    const { server, client } = await setup();
    server.add('out', '');
    const data = pattern(200_000, 5);
    // Mixed sizes: many tiny chunks and a few larger than ioSize.
    const chunks: Buffer[] = [];
    for (let off = 0, i = 0; off < data.length; i++) {
      const n = Math.min(i % 10 === 0 ? 20_000 : 37, data.length - off);
      chunks.push(data.subarray(off, off + n));
      off += n;
    }
    server.maxOutstanding = 0;
    const ws = client.createWriteStream('out', { window: 3 });
    await pipeline(Readable.from(chunks), ws);
    expect(server.lookup('out')!.data.equals(data)).toBe(true);
    const writes = ofType(server, MsgType.Twrite);
    expect(writes.every((w) => w.data.length <= 8192)).toBe(true);
    expect(writes.length).toBeLessThan(chunks.length);
    expect(server.maxOutstanding).toBeLessThanOrEqual(3 + 1);
    expect(ws.bytesWritten).toBe(data.length);
    await new Promise((r) => setImmediate(r));
    expect(server.fidCount).toBe(1);
  });

  test('a write error fails the stream', async () => {
    const { server, client } = await setup({ order: 'now' });
    server.add('out', '');
    server.hook = (t) => (t.type === MsgType.Twrite && t.offset > 0 ? { type: MsgType.Rlerror, tag: t.tag, ecode: 28 } : undefined);
    const ws = client.createWriteStream('out');
    await expect(pipeline(Readable.from([pattern(50_000)]), ws)).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  test('a read error fails the stream', async () => {
    const { server, client } = await setup({ order: 'now' });
    server.add('f', pattern(50_000));
    server.hook = (t) => (t.type === MsgType.Tread && t.offset > 0 ? { type: MsgType.Rlerror, tag: t.tag, ecode: 5 } : undefined);
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(pipeline(client.createReadStream('f'), sink)).rejects.toMatchObject({ code: 'EIO' });
  });
});

describe('directory listing per dialect', () => {
  test.each<Dialect>(['9P2000', '9P2000.u', '9P2000.L'])('%s', async (version) => {
    const { server, client } = await setup({}, { version });
    const names = Array.from({ length: 300 }, (_, i) => `entry-${String(i).padStart(3, '0')}`);
    for (const n of names) server.add(`d/${n}`, n);
    server.add('d/sub', null);
    const list = await client.list('d');
    expect(list.map((e) => e.name).sort()).toEqual([...names, 'sub'].sort());
    const sub = list.find((e) => e.name === 'sub')!;
    expect(sub.qid.type & 0x80).toBe(0x80);
    if (version === '9P2000.L') {
      expect(sub.type).toBe(4);
      expect(ofType(server, MsgType.Treaddir).length).toBeGreaterThan(1);
    } else {
      expect(sub.stat!.mode & 0x80000000).not.toBe(0);
      expect(list.find((e) => e.name === 'entry-007')!.stat!.length).toBe(9);
      if (version === '9P2000.u') expect(sub.stat!.nUid).toBe(1000);
      expect(ofType(server, MsgType.Tread).length).toBeGreaterThan(1);
    }
    expect(server.fidCount).toBe(1);
  });
});

describe('readdir cookies', () => {
  test('cookies above 2^53 (ext4 hash cookies) go back to the server exact', async () => {
    const { server, root } = await setup({ order: 'now' });
    const base = 0x7000000000000000n;
    const names = Array.from({ length: 50 }, (_, i) => `n${i}`);
    const asked: Array<bigint | number> = [];
    server.hook = (t) => {
      if (t.type !== MsgType.Treaddir) return undefined;
      asked.push(t.cookie ?? t.offset);
      // Cookie of entry i is base + i*3 + 1; continue after the cookie asked for, 10 at a time.
      const from = t.cookie === undefined ? 0 : Number((t.cookie - base - 1n) / 3n) + 1;
      const ents = names.slice(from, from + 10).map((name, k) => {
        const cookie = base + BigInt((from + k) * 3 + 1);
        return { qid: { type: 0, version: 0, path: BigInt(from + k) }, offset: Number(cookie), cookie, type: 8, name };
      });
      return { type: MsgType.Rreaddir, tag: t.tag, data: packDirents(ents, t.count).data };
    };
    server.add('d', null);
    const d = await (await root.walk('d')).lopen(0);
    const all = await d.readdirAll();
    expect(all.map((e) => e.name)).toEqual(names);
    expect(asked).toEqual([0, base + 28n, base + 58n, base + 88n, base + 118n, base + 148n]);
    expect(all[49]!.cookie).toBe(base + 148n);
  });
});

describe('9P2000 whole-file helpers', () => {
  test('writeFile creates with Tcreate, readFile reads back', async () => {
    const { server, client } = await setup({}, { version: '9P2000' });
    const data = pattern(40_000, 11);
    await client.writeFile('x', data, { mode: 0o600 });
    expect(ofType(server, MsgType.Tcreate)[0]).toMatchObject({ name: 'x', perm: 0o600, mode: 1 });
    expect((await client.readFile('x')).equals(data)).toBe(true);
    await client.writeFile('x', 'short');
    expect(ofType(server, MsgType.Topen).pop()!.mode).toBe(0x11);
    expect((await client.readFile('x')).toString()).toBe('short');
  });
});

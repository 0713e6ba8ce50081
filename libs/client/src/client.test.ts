import {
  Errno, MsgType, NinepError, NOTAG, decode, encode, type Dialect, type Fcall, type TMessage,
} from '@prose/protocol';
import { connPair } from '@prose/transport';
import { AbortError, Client, DEFAULT_MSIZE, WalkError, type ConnectOptions } from './index.js';
import { fakeServer, type FakeOptions, type FakeServer } from './test-server.js';

async function setup(opts: FakeOptions = {}, copts: ConnectOptions = {}) {
  const { server, conn } = fakeServer(opts);
  const client = await Client.connect(conn, copts);
  const root = await client.attach({ uname: 'glenda', aname: '' });
  return { server, client, root };
}

const tick = () => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

function ofType<K extends MsgType>(s: FakeServer, type: K): Array<Extract<TMessage, { type: K }>> {
  return s.received.filter((t) => t.type === type) as Array<Extract<TMessage, { type: K }>>;
}

describe('version negotiation (version(5))', () => {
  test('asks 1 MiB + IOHDRSZ and 9P2000.L by default, adopts the smaller msize the server answers', async () => {
    const { server, client } = await setup();
    const tv = server.received[0]!;
    expect(tv).toMatchObject({ type: MsgType.Tversion, tag: NOTAG, msize: DEFAULT_MSIZE, version: '9P2000.L' });
    expect(DEFAULT_MSIZE).toBe(1048576 + 24);
    expect(client.msize).toBe(DEFAULT_MSIZE);
    expect(client.dialect).toBe('9P2000.L');
    client.close();

    const small = fakeServer({ msize: 8192 + 24 });
    const c2 = await Client.connect(small.conn);
    expect(c2.msize).toBe(8216);
    expect(c2.maxIo).toBe(8192);
    c2.close();
  });

  test('sets the Conn to refuse frames above the negotiated msize', async () => {
    const { server, client, root } = await setup({ msize: 8216 });
    server.hook = (t) => (t.type === MsgType.Tread ? 'hold' : undefined);
    const f = await (await root.walk('')).lopen(0);
    const pending = f.read(0, 100);
    await until(() => server.held.size === 1);
    const [tag] = [...server.held.keys()];
    server.conn.send(encode({ type: MsgType.Rread, tag: tag!, data: Buffer.alloc(9000) }, '9P2000.L'));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NinepError);
    expect((err as NinepError).code).toBe('ECONNRESET');
    expect(client.closed).toBe(true);
  });

  test.each<[string, Dialect[], string, Dialect]>([
    ['9P2000.L', ['9P2000'], '9P2000', '9P2000'],
    ['9P2000.u', ['9P2000'], '9P2000', '9P2000'],
    ['9P2000.u', ['9P2000.u'], '9P2000.u', '9P2000.u'],
    ['9P2000', ['9P2000', '9P2000.u', '9P2000.L'], '9P2000', '9P2000'],
    ['9P2000.L.prose.1', ['9P2000.L'], '9P2000.L', '9P2000.L'],
  ])('asked %s of a server speaking %j: answered %s, speaks %s', async (asked, dialects, answer, dialect) => {
    const { server, conn } = fakeServer({ dialects });
    const c = await Client.connect(conn, { version: asked });
    expect(c.version).toBe(answer);
    expect(c.dialect).toBe(dialect);
    // And the session works in that dialect (Tattach encodes n_uname only on .u/.L).
    await c.attach({ uname: 'glenda' });
    expect(server.received[1]).toMatchObject({ type: MsgType.Tattach, uname: 'glenda' });
    expect('nUname' in server.received[1]!).toBe(dialect !== '9P2000');
    c.close();
  });

  test('"unknown" rejects with EPROTONOSUPPORT and closes the Conn', async () => {
    const { conn } = fakeServer({ dialects: ['9P2000.u'] });
    const err = await Client.connect(conn, { version: '9P2000.L' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NinepError);
    expect((err as NinepError).code).toBe('EPROTONOSUPPORT');
    expect((err as NinepError).message).toMatch(/unknown/);
    expect(conn.closed).toBe(true);
  });

  /** A server that answers Tversion with `reply` (encoded in `dialect`). */
  function answering(reply: (t: Fcall) => Fcall, dialect: Dialect = '9P2000.L') {
    const [a, b] = connPair();
    b.start({ frame: (f) => b.send(encode(reply(decode(Buffer.from(f), dialect)), dialect)), close: () => {} });
    return a;
  }

  test('an Rlerror to Tversion (diod for anything but .L) rejects with its errno', async () => {
    const conn = answering((t) => ({ type: MsgType.Rlerror, tag: t.tag, ecode: Errno.EIO }));
    const err = (await Client.connect(conn, { version: '9P2000.u' }).catch((e: unknown) => e)) as NinepError;
    expect(err.code).toBe('EIO');
    expect(err.message).toMatch(/version 9P2000.u refused/);
  });

  test('an Rerror to Tversion rejects with the errno of its text', async () => {
    const conn = answering((t) => ({ type: MsgType.Rerror, tag: t.tag, ename: 'permission denied' }), '9P2000');
    const err = (await Client.connect(conn).catch((e: unknown) => e)) as NinepError;
    expect(err.code).toBe('EACCES');
  });

  test('a larger msize than asked, or a version not asked for, is a protocol botch', async () => {
    const big = answering((t) => ({ type: MsgType.Rversion, tag: t.tag, msize: 1 << 24, version: '9P2000.L' }));
    expect(((await Client.connect(big, { msize: 65536 }).catch((e: unknown) => e)) as NinepError).code).toBe('EPROTO');
    const other = answering((t) => ({ type: MsgType.Rversion, tag: t.tag, msize: 8192, version: '9P2000.u' }));
    expect(((await Client.connect(other).catch((e: unknown) => e)) as NinepError).code).toBe('EPROTO');
  });

  test('a signal aborts a connect that gets no answer', async () => {
    const [a, b] = connPair();
    b.start({ frame: () => {}, close: () => {} });
    const ac = new AbortController();
    const p = Client.connect(a, { signal: ac.signal });
    ac.abort();
    const err = (await p.catch((e: unknown) => e)) as NinepError;
    expect(err.name).toBe('AbortError');
    expect(a.closed).toBe(true);
  });

  test('raw rpc refuses Tversion (it would reset the session)', async () => {
    const { client } = await setup();
    await expect(client.rpc({ type: MsgType.Tversion, msize: 8192, version: '9P2000' })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('tags', () => {
  test('never NOTAG; one-at-a-time requests reuse the freed tag', async () => {
    const { server, root } = await setup();
    for (let i = 0; i < 5; i++) await (await root.clone()).clunk();
    const tags = server.received.filter((t) => t.type !== MsgType.Tversion).map((t) => t.tag);
    expect(new Set(tags)).toEqual(new Set([0]));
    expect(server.received[0]!.tag).toBe(NOTAG);
  });

  test('outstanding requests have distinct tags, and freed tags are reused', async () => {
    const { server, client, root } = await setup({ order: 'reverse' });
    server.add('f', 'x'.repeat(100));
    const f = await (await root.walk('f')).lopen(0);
    const before = server.received.length;
    await Promise.all(Array.from({ length: 100 }, (_, i) => f.read(i, 1)));
    const first = server.received.slice(before).map((t) => t.tag);
    expect(new Set(first).size).toBe(100);
    expect(first).not.toContain(NOTAG);
    const mark = server.received.length;
    await Promise.all(Array.from({ length: 50 }, (_, i) => f.read(i, 1)));
    const second = server.received.slice(mark).map((t) => t.tag);
    expect(second.every((t) => first.includes(t))).toBe(true);
    expect(client.outstanding).toBe(0);
  });

  test('maxTags bounds the requests on the wire; the rest wait for a tag', async () => {
    const { server, client, root } = await setup({ order: 'reverse' }, { maxTags: 3 });
    server.add('f', 'abcdefghij');
    const f = await (await root.walk('f')).lopen(0);
    server.maxOutstanding = 0;
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => f.read(i, 1)));
    expect(got.map((b) => b.toString()).join('')).toBe('abcdefghij');
    expect(server.maxOutstanding).toBe(3);
    expect(client.outstanding).toBe(0);
    const tags = new Set(server.received.filter((t) => t.type === MsgType.Tread).map((t) => t.tag));
    expect([...tags].sort()).toEqual([0, 1, 2]);
  });
});

describe('pipelining', () => {
  test('replies in any order reach their own callers', async () => {
    const { server, root } = await setup({ order: 'reverse' });
    const files = Array.from({ length: 20 }, (_, i) => `file${i}`);
    for (const n of files) server.add(n, `content of ${n}`);
    const fids = await Promise.all(files.map((n) => root.walk(n)));
    expect(fids.map((f) => f.path)).toEqual(files);
    await Promise.all(fids.map((f) => f.lopen(0)));
    const data = await Promise.all(fids.map((f) => f.read(0, 100)));
    expect(data.map((d) => d.toString())).toEqual(files.map((n) => `content of ${n}`));
    // The server really answered out of order: the first Tread sent got the last Rread.
    const reads = ofType(server, MsgType.Tread);
    expect(reads).toHaveLength(20);
    await Promise.all(fids.map((f) => f.clunk()));
    expect(server.fidCount).toBe(1);
  });
});

describe('flush (flush(5))', () => {
  test('reply before Rflush is honoured: the walk resolves and its fid is kept', async () => {
    const { server, client, root } = await setup({ holdFlush: true });
    server.add('dir/file', 'x');
    server.hook = (t) => (t.type === MsgType.Twalk ? 'hold' : undefined);
    const ac = new AbortController();
    const walking = root.walk('dir/file', { signal: ac.signal });
    await until(() => server.held.size === 1);
    const walkTag = [...server.held.keys()][0]!;
    ac.abort();
    await until(() => server.held.size === 2);
    const flush = [...server.held.values()].find((t) => t.type === MsgType.Tflush)!;
    expect(flush).toMatchObject({ type: MsgType.Tflush, oldtag: walkTag });
    expect(flush.tag).not.toBe(walkTag);
    server.hook = undefined;
    server.release(walkTag); // the Rwalk first ...
    const f = await walking; // ... resolves the call before any Rflush
    expect(f.path).toBe('dir/file');
    expect(server.fidCount).toBe(2);
    // The old tag is still reserved: a new request gets a third tag.
    const other = root.clone();
    await until(() => ofType(server, MsgType.Twalk).length === 2);
    const newTag = ofType(server, MsgType.Twalk)[1]!.tag;
    expect([walkTag, flush.tag]).not.toContain(newTag);
    await (await other).clunk();
    server.release(flush.tag);
    await until(() => client.outstanding === 0);
    // The fid the honoured walk made is real and usable.
    await f.lopen(0);
    expect((await f.read(0, 10)).toString()).toBe('x');
    await f.clunk();
    expect(server.fidCount).toBe(1);
  });

  test('Rflush without the reply rejects with AbortError, frees the new fid, and the tag only after the Rflush', async () => {
    const { server, client, root } = await setup({ holdFlush: true });
    server.add('a', 'x');
    server.hook = (t) => (t.type === MsgType.Twalk ? 'hold' : undefined);
    const ac = new AbortController();
    const walking = root.walk('a', { signal: ac.signal });
    await until(() => server.held.size === 1);
    const walk = [...server.held.values()][0]! as Extract<TMessage, { type: MsgType.Twalk }>;
    ac.abort(new Error('user gave up'));
    await until(() => server.held.size === 2);
    const flush = [...server.held.values()].find((t) => t.type === MsgType.Tflush)!;
    // Before the Rflush: the old tag and the flush's tag are both still taken.
    server.hook = undefined;
    await root.getattr().catch(() => undefined);
    const during = server.received[server.received.length - 1]!;
    expect([walk.tag, flush.tag]).not.toContain(during.tag);
    // The server drops the walk and answers only the flush.
    server.release(flush.tag);
    const err = (await walking.catch((e: unknown) => e)) as AbortError;
    expect(err).toBeInstanceOf(AbortError);
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('EINTR');
    expect((err.cause as Error).message).toBe('user gave up');
    expect(client.outstanding).toBe(0);
    // The tag and the fid number come back into use.
    await (await root.walk('a')).clunk();
    const last = ofType(server, MsgType.Twalk).pop()!;
    expect(last.newfid).toBe(walk.newfid);
    expect([walk.tag, flush.tag]).toContain(last.tag);
  });

  test('an error reply before the Rflush is honoured as the error', async () => {
    const { server, root } = await setup({ holdFlush: true });
    server.hook = (t) => (t.type === MsgType.Twalk ? 'hold' : undefined);
    const ac = new AbortController();
    const walking = root.walk('missing', { signal: ac.signal });
    await until(() => server.held.size === 1);
    const tag = [...server.held.keys()][0]!;
    ac.abort();
    await until(() => server.held.size === 2);
    server.release(tag);
    const err = (await walking.catch((e: unknown) => e)) as WalkError;
    expect(err).toBeInstanceOf(WalkError);
    expect(err.code).toBe('ENOENT');
  });

  test('flush of a request whose reply already came is never sent', async () => {
    const { server, root } = await setup();
    const ac = new AbortController();
    await root.getattr(undefined, { signal: ac.signal }).catch(() => undefined);
    ac.abort();
    await tick();
    expect(ofType(server, MsgType.Tflush)).toHaveLength(0);
  });

  test('an already aborted signal sends nothing; a request waiting for a tag is dropped without Tflush', async () => {
    const { server, client, root } = await setup({}, { maxTags: 1 });
    const n = server.received.length;
    const ac0 = new AbortController();
    ac0.abort();
    await expect(root.clone({ signal: ac0.signal })).rejects.toBeInstanceOf(AbortError);
    expect(server.received.length).toBe(n);

    server.hook = (t) => (t.type === MsgType.Tgetattr ? 'hold' : undefined);
    const first = root.getattr();
    await until(() => server.held.size === 1);
    const ac = new AbortController();
    const queued = root.getattr(undefined, { signal: ac.signal });
    ac.abort();
    await expect(queued).rejects.toBeInstanceOf(AbortError);
    server.hook = undefined;
    server.release([...server.held.keys()][0]!, { type: MsgType.Rlerror, tag: 0, ecode: Errno.EIO });
    await expect(first).rejects.toMatchObject({ code: 'EIO' });
    expect(ofType(server, MsgType.Tflush)).toHaveLength(0);
    expect(client.outstanding).toBe(0);
  });

  test('raw rpc with a signal follows the same rules', async () => {
    const { server, client, root } = await setup();
    server.hook = (t) => (t.type === MsgType.Tgetattr ? 'hold' : undefined);
    const ac = new AbortController();
    const p = client.rpc({ type: MsgType.Tgetattr, fid: root.fid, requestMask: 0x7ff }, { signal: ac.signal });
    await until(() => server.held.size === 1);
    ac.abort();
    // The default Tflush handling drops the held request and answers Rflush only.
    await expect(p).rejects.toMatchObject({ name: 'AbortError', errno: Errno.EINTR });
    expect(ofType(server, MsgType.Tflush)).toHaveLength(1);
  });
});

describe('errors per dialect', () => {
  test('.L Rlerror carries the errno', async () => {
    const { server, root } = await setup();
    server.hook = (t) => (t.type === MsgType.Tgetattr ? { type: MsgType.Rlerror, tag: t.tag, ecode: Errno.EACCES } : undefined);
    const err = (await root.getattr().catch((e: unknown) => e)) as NinepError;
    expect(err).toBeInstanceOf(NinepError);
    expect(err.errno).toBe(Errno.EACCES);
    expect(err.code).toBe('EACCES');
  });

  test('.u Rerror carries ename and errno', async () => {
    const { server, root } = await setup({}, { version: '9P2000.u' });
    server.hook = (t) => (t.type === MsgType.Tstat ? { type: MsgType.Rerror, tag: t.tag, ename: 'it is gone', errno: Errno.ESTALE } : undefined);
    const err = (await root.stat().catch((e: unknown) => e)) as NinepError;
    expect(err.ename).toBe('it is gone');
    expect(err.code).toBe('ESTALE');
  });

  test('.u Rerror with errno 0 falls back to the text', async () => {
    const { server, root } = await setup({}, { version: '9P2000.u' });
    server.hook = (t) => (t.type === MsgType.Tstat ? { type: MsgType.Rerror, tag: t.tag, ename: 'file not found', errno: 0 } : undefined);
    expect(await root.stat().catch((e: NinepError) => e.code)).toBe('ENOENT');
  });

  test.each([
    ['file not found', 'ENOENT'],
    ['permission denied', 'EACCES'],
    ['file already exists', 'EEXIST'],
    ['something odd', 'EIO'],
  ])('9P2000 Rerror "%s" maps to %s', async (ename, code) => {
    const { server, root } = await setup({}, { version: '9P2000' });
    server.hook = (t) => (t.type === MsgType.Tstat ? { type: MsgType.Rerror, tag: t.tag, ename } : undefined);
    const err = (await root.stat().catch((e: unknown) => e)) as NinepError;
    expect(err.ename).toBe(ename);
    expect(err.code).toBe(code);
  });

  test('a reply of the wrong type is a protocol botch', async () => {
    const { server, root } = await setup();
    server.hook = (t) => (t.type === MsgType.Tgetattr ? { type: MsgType.Rclunk, tag: t.tag } : undefined);
    await expect(root.getattr()).rejects.toMatchObject({ code: 'EPROTO' });
  });

  test('a reply with a tag no request holds closes the connection', async () => {
    const { server, client, root } = await setup();
    server.hook = (t) => (t.type === MsgType.Tgetattr ? 'hold' : undefined);
    const p = root.getattr();
    await until(() => server.held.size === 1);
    server.conn.send(encode({ type: MsgType.Rclunk, tag: 999 }, '9P2000.L'));
    await expect(p).rejects.toMatchObject({ code: 'ECONNRESET' });
    const why = await client.whenClosed();
    expect(why).toMatchObject({ code: 'EPROTO' });
  });
});

describe('walk', () => {
  const deep = Array.from({ length: 40 }, (_, i) => `d${i}`);

  test('more than 16 names go as several Twalks of at most 16, the later ones in place', async () => {
    const { server, root } = await setup();
    const leaf = server.add(deep.join('/'), null);
    const f = await root.walk(deep.join('/'));
    expect(f.qid).toEqual(leaf.qid);
    expect(f.path).toBe(deep.join('/'));
    const walks = ofType(server, MsgType.Twalk);
    expect(walks.map((w) => w.wname.length)).toEqual([16, 16, 8]);
    expect(walks[0]!.fid).toBe(root.fid);
    expect(walks[1]!.fid).toBe(f.fid);
    expect(walks[1]!.newfid).toBe(f.fid);
    expect(walks[2]!.wname[0]).toBe('d32');
    expect(server.fidCount).toBe(2);
  });

  test('a partial walk rejects with ENOENT naming the missing element and leaves no fid', async () => {
    const { server, client, root } = await setup();
    server.add(deep.slice(0, 20).join('/'), null);
    const err = (await root.walk(deep.join('/')).catch((e: unknown) => e)) as WalkError;
    expect(err).toBeInstanceOf(WalkError);
    expect(err.code).toBe('ENOENT');
    expect(err.walked).toBe(20);
    expect(err.message).toContain('"d20"');
    // The fid made by the first Twalk was clunked; the server holds only the root.
    expect(ofType(server, MsgType.Tclunk)).toHaveLength(1);
    expect(server.fidCount).toBe(1);
    // And its number is reused.
    const again = await root.clone();
    expect(again.fid).toBe(ofType(server, MsgType.Tclunk)[0]!.fid);
    expect(client.outstanding).toBe(0);
  });

  test('a partial walk within the first 16 sends no clunk (the server made no fid)', async () => {
    const { server, root } = await setup();
    server.add('a/b', null);
    const err = (await root.walk('a/b/c/d').catch((e: unknown) => e)) as WalkError;
    expect(err.walked).toBe(2);
    expect(ofType(server, MsgType.Tclunk)).toHaveLength(0);
    expect(server.fidCount).toBe(1);
    const first = (await root.walk('nothing').catch((e: unknown) => e)) as WalkError;
    expect(first.code).toBe('ENOENT');
    expect(first.walked).toBe(0);
  });

  test('clunked fids reject with EBADF and their numbers are recycled', async () => {
    const { root } = await setup();
    const a = await root.clone();
    await a.clunk();
    await expect(a.getattr()).rejects.toMatchObject({ code: 'EBADF' });
    await a.clunk(); // no-op
    const b = await root.clone();
    expect(b.fid).toBe(a.fid);
  });
});

describe('9P2000 operations', () => {
  test('open, stat, wstat (only the fields given; the rest "don\'t touch"), remove', async () => {
    const { server, root } = await setup({}, { version: '9P2000' });
    server.add('dir/file', 'some content');
    const f = await root.walk('dir/file');
    const st = await f.stat();
    expect(st).toMatchObject({ name: 'file', length: 12, uid: 'glenda' });
    await f.wstat({ name: 'renamed', length: 4 });
    const tw = server.received.find((t) => t.type === MsgType.Twstat) as Extract<TMessage, { type: MsgType.Twstat }>;
    expect(tw.stat).toMatchObject({ name: 'renamed', mode: 0xffffffff, mtime: 0xffffffff, uid: '', type: 0xffff });
    expect(server.lookup('dir/renamed')!.data.toString()).toBe('some');
    await f.open(0);
    expect(f.opened).toBe(true);
    expect((await f.read(0, 100)).toString()).toBe('some');
    await f.remove();
    expect(server.lookup('dir/renamed')).toBeUndefined();
    expect(f.clunked).toBe(true);
    expect(server.fidCount).toBe(1);
    const d = await root.walk('dir');
    await d.create('made', 0o600, 1);
    expect(d.path).toBe('dir/made');
    expect(await d.write(0, Buffer.from('new'))).toBe(3);
    expect(server.lookup('dir/made')!.data.toString()).toBe('new');
  });

  test('auth: an afid for the server\'s auth file, passed to attach; a refusal frees the fid number', async () => {
    const { server, client } = await setup({}, { version: '9P2000.u' });
    const before = client.allocFid();
    client.releaseFid(before);
    await expect(client.auth({ uname: 'glenda' })).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    expect(client.allocFid()).toBe(before);
    client.releaseFid(before);
    server.hook = (t) => (t.type === MsgType.Tauth ? { type: MsgType.Rauth, tag: t.tag, aqid: { type: 0x08, version: 0, path: 99n } } : undefined);
    const afid = await client.auth({ uname: 'glenda', aname: 'main', nUname: 1000 });
    expect(afid.qid.type).toBe(0x08);
    expect(server.received.filter((t) => t.type === MsgType.Tauth).pop()).toMatchObject({ uname: 'glenda', aname: 'main', nUname: 1000 });
    await client.attach({ uname: 'glenda', afid });
    expect(server.received.filter((t) => t.type === MsgType.Tattach).pop()).toMatchObject({ afid: afid.fid, uname: 'glenda' });
  });
});

describe('connection close', () => {
  test('rejects every pending call with "connection closed" (ECONNRESET), and every later one', async () => {
    const { server, client, root } = await setup();
    server.hook = () => 'hold';
    const pending = [root.getattr(), root.clone(), root.walk('x/y'), client.rpc({ type: MsgType.Tstatfs, fid: root.fid })];
    await until(() => server.held.size === 4);
    server.conn.close();
    const errs = await Promise.all(pending.map((p) => (p as Promise<unknown>).catch((e: unknown) => e)));
    for (const e of errs) {
      expect(e).toBeInstanceOf(NinepError);
      expect((e as NinepError).code).toBe('ECONNRESET');
      expect((e as NinepError).message).toMatch(/connection closed/);
    }
    expect(client.closed).toBe(true);
    await expect(root.getattr()).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  test('client.close() does the same from this side', async () => {
    const { server, client, root } = await setup();
    server.hook = () => 'hold';
    const p = root.getattr();
    await until(() => server.held.size === 1);
    client.close();
    await expect(p).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(server.conn.closed).toBe(true);
    expect(await client.whenClosed()).toBeUndefined();
  });
});

describe('receive memory a transport lends (ConnHandler.lendable)', () => {
  test('only readRef replies are lendable: read and readdir replies are kept by the caller, the rest are decoded at once', async () => {
    const { server, conn } = fakeServer();
    server.add('f', Buffer.alloc(5000, 7));
    server.add('d/x', 'x');
    // A Conn that asks the handler, frame by frame, what a lending transport would ask.
    const asked: Array<[string, boolean | undefined]> = [];
    const start = conn.start.bind(conn);
    conn.start = (h) => start({
      frame: (f) => {
        asked.push([MsgType[f[4]!]!, h.lendable?.(f[4]!, f.readUInt16LE(5))]);
        h.frame(f);
      },
      close: (e) => h.close(e),
    });
    const client = await Client.connect(conn);
    const root = await client.attach({ uname: 'glenda', aname: '' });
    const f = await root.walk('f');
    await f.lopen(0);
    asked.length = 0;
    const ref = await f.readRef(0, 4000);
    expect(ref.data.length).toBe(4000);
    ref.release();
    expect((await f.read(0, 4000)).length).toBe(4000);
    const d = await root.walk('d');
    await d.lopen(0);
    await d.readdir(0);
    await d.clunk();
    expect(asked).toEqual([
      ['Rread', true], ['Rread', false], ['Rwalk', true], ['Rlopen', true], ['Rreaddir', false], ['Rclunk', true],
    ]);
    client.close();
  });
});

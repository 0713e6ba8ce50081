/**
 * The storage service operation by operation, through @prose/client: the .L table (suite.ts)
 * against our service (metadata calls on the event loop, and through the thread pool) and
 * against diod (the cases diod supports; both must give the expected summary, so they agree),
 * the .u table (suite-u.ts), and a plain 9P2000 session.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, type Fid } from '@prose/client';
import { L_O_CREAT, L_O_RDONLY, L_O_RDWR, OREAD, ORDWR, QTDIR } from '@prose/protocol';
import { haveDiod, startDiod, type Diod } from '../support/diod.js';
import { startStorage, type Storage } from './helpers.js';
import { L_CASES, code, type OpCase } from './suite.js';
import { U_CASES } from './suite-u.js';

jest.setTimeout(30000);

interface Target {
  client: Client;
  root: Fid;
  exportDir: string;
  server: 'prose' | 'diod';
  addr: string;
  aname: string;
}

let n = 0;

async function runCase(t: Target, c: OpCase): Promise<unknown> {
  const name = `case-${++n}`;
  const host = path.join(t.exportDir, name);
  fs.mkdirSync(host);
  const dir = await t.root.walk(name);
  try {
    return await c.run({ c: t.client, root: t.root, dir, host, server: t.server, addr: t.addr, aname: t.aname });
  } finally {
    await dir.clunk().catch(() => {});
  }
}

describe('storage service, 9P2000.L', () => {
  let svc: Storage;
  let t: Target;

  beforeAll(async () => {
    svc = await startStorage();
    const client = await Client.connect(svc.addr);
    t = { client, root: await client.attach({ aname: svc.dir }), exportDir: svc.dir, server: 'prose', addr: svc.addr, aname: svc.dir };
  });
  afterAll(async () => {
    t?.client.close();
    await svc?.stop();
  });

  test('version and msize: 9P2000.L, 1 MiB + 24 (iounit msize - 24)', async () => {
    expect(t.client.version).toBe('9P2000.L');
    expect(t.client.msize).toBe(1024 * 1024 + 24);
    const big = await Client.connect(svc.addr, { msize: 4 * 1024 * 1024 + 24 });
    expect(big.msize).toBe(4 * 1024 * 1024 + 24);
    const r = await big.attach({});
    const f = await (await r.clone()).lcreate('iounit', 0o102, 0o644);
    expect(f.iounit).toBe(4 * 1024 * 1024);
    await f.clunk();
    big.close();
  });

  test('waves of concurrent 1 MiB reads, one sent while the last backs up, each carry their own bytes', async () => {
    // Over a Unix socket (small kernel buffers, unlike loopback TCP's tens of MiB): waves of 24
    // concurrent 1 MiB Treads of a file whose every MiB is distinct, their replies read into the
    // transport's pooled buffers. (The service stops reading while its replies back up, so the
    // second wave is read once the first is written: the reuse-before-written case itself is
    // pinned in libs/transport's tests, with a peer that does not read.)
    const sock = path.join(svc.base, 'big-reads.sock');
    const own = await startStorage(['--listen', `unix!${sock}`]);
    const client = await Client.connect(own.addr);
    try {
      const mib = 1024 * 1024;
      const content = Buffer.alloc(24 * mib);
      for (let i = 0; i < content.length; i += 4) content.writeUInt32LE((i * 2654435761) >>> 0, i);
      fs.writeFileSync(path.join(own.dir, 'big-reads'), content);
      const f = await (await (await client.attach({ aname: own.dir })).walk('big-reads')).lopen(L_O_RDONLY);
      for (let round = 0; round < 2; round++) {
        const first = Array.from({ length: 24 }, (_, k) => f.read(k * mib, mib));
        await new Promise((r) => setImmediate(r)); // the first wave's Treads are on their way
        // Read nothing for a while (this thread busy): the first wave's replies back up in the
        // service's socket, and the second wave is sent behind them.
        const until = Date.now() + 300;
        while (Date.now() < until);
        const second = Array.from({ length: 24 }, (_, k) => f.read((23 - k) * mib, mib));
        const [a, b] = await Promise.all([Promise.all(first), Promise.all(second)]);
        a.forEach((d, k) => expect(d.equals(content.subarray(k * mib, (k + 1) * mib))).toBe(true));
        b.forEach((d, k) => expect(d.equals(content.subarray((23 - k) * mib, (24 - k) * mib))).toBe(true));
      }
    } finally {
      client.close();
      await own.stop();
    }
  });

  test('attach: aname "" and the export path; any other is refused', async () => {
    const c = await Client.connect(svc.addr);
    const a = await c.attach({ aname: '' });
    expect(a.qid.path).toBe(t.root.qid.path);
    expect(a.qid.type & QTDIR).toBe(QTDIR);
    await expect(c.attach({ aname: '/etc' })).rejects.toMatchObject({ code: 'ENOENT' });
    c.close();
  });

  test.each(L_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await runCase(t, c)).toEqual(c.expect);
  });

  test('a created file is held by the one descriptor its create opened: attributes and xattr fids work on it, and clunks close it', async () => {
    const host = path.join(t.exportDir, 'one-fd');
    fs.mkdirSync(host);
    const dir = await t.root.walk('one-fd');
    const fds = () => fs.readdirSync(`/proc/${svc.proc.proc.pid}/fd`).length;
    const before = fds();
    for (let i = 0; i < 50; i++) {
      const f = await (await dir.clone()).lcreate(`f${i}`, L_O_RDWR | L_O_CREAT, 0o600);
      await f.write(0, Buffer.from('hello'));
      expect(await code(f.clone())).toBe('EBADF'); // an open fid is never cloned, so never shares its descriptor that way
      await f.setattr({ mode: 0o640, size: 3 });
      expect((await f.getattr()).size).toBe(3);
      const x = await f.xattrwalk(''); // a second fid on the same file, outliving the creator
      await f.clunk();
      await x.fid.clunk();
      const r = await (await dir.walk(`f${i}`)).lopen(L_O_RDONLY);
      expect((await r.read(0, 10)).toString()).toBe('hel');
      await r.clunk();
      await dir.unlinkat(`f${i}`);
    }
    expect(fds()).toBe(before);
    expect(fs.readdirSync(host)).toEqual([]);
    await dir.clunk();
  });
});

describe('storage service, 9P2000.L, metadata calls through the thread pool (--metadata-io pool)', () => {
  let svc: Storage;
  let t: Target;

  beforeAll(async () => {
    svc = await startStorage(['--metadata-io', 'pool']);
    const client = await Client.connect(svc.addr);
    t = { client, root: await client.attach({ aname: svc.dir }), exportDir: svc.dir, server: 'prose', addr: svc.addr, aname: svc.dir };
  });
  afterAll(async () => {
    t?.client.close();
    await svc?.stop();
  });

  test.each(L_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await runCase(t, c)).toEqual(c.expect);
  });
});

describe('storage service without the @prose/posix addon (PROSE_POSIX_ADDON pointing nowhere)', () => {
  let svc: Storage;
  let t: Target;

  beforeAll(async () => {
    svc = await startStorage([], { env: { PROSE_POSIX_ADDON: '/nonexistent/prose_posix.node' } });
    const client = await Client.connect(svc.addr);
    t = { client, root: await client.attach({}), exportDir: svc.dir, server: 'prose', addr: svc.addr, aname: '' };
  });
  afterAll(async () => {
    t?.client.close();
    await svc?.stop();
  });

  // Walks, creates, unlinks and mkdirs go through /proc/self/fd paths here instead of *at(2) calls.
  test.each(L_CASES.filter((c) => !/xattr/i.test(c.name)).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await runCase(t, c)).toEqual(c.expect);
  });

  test('xattrs are not served', async () => {
    fs.writeFileSync(path.join(svc.dir, 'x'), '');
    const f = await t.root.walk('x');
    expect({ list: await f.listxattr(), get: await code(f.getxattr('user.k')), set: await code(f.setxattr('user.k', 'v')) })
      .toEqual({ list: [], get: 'ENODATA', set: 'EOPNOTSUPP' });
    await f.clunk();
  });
});

const describeDiod = haveDiod() ? describe : describe.skip;

describeDiod('the same .L cases against diod (interop: both give the same answers)', () => {
  let diod: Diod;
  let t: Target;
  const shared = L_CASES.filter((c) => c.diod === true);

  beforeAll(async () => {
    diod = await startDiod();
    const client = await Client.connect(diod.addr);
    t = { client, root: await client.attach({ aname: diod.exportDir }), exportDir: diod.exportDir, server: 'diod', addr: diod.addr, aname: diod.exportDir };
  });
  afterAll(async () => {
    t?.client.close();
    await diod?.stop();
  });
  afterEach(() => {
    if (!diod.running()) throw new Error(`diod died: ${diod.log()}`);
  });

  test('most of the table is shared', () => {
    expect(shared.length).toBeGreaterThanOrEqual(L_CASES.length - 5);
  });

  test.each(shared.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await runCase(t, c)).toEqual(c.expect);
  });
});

describe('storage service, 9P2000.u', () => {
  let svc: Storage;
  let t: Target;

  beforeAll(async () => {
    svc = await startStorage();
    const client = await Client.connect(svc.addr, { version: '9P2000.u' });
    t = { client, root: await client.attach({}), exportDir: svc.dir, server: 'prose', addr: svc.addr, aname: '' };
  });
  afterAll(async () => {
    t?.client.close();
    await svc?.stop();
  });

  test('negotiates 9P2000.u', () => {
    expect(t.client.version).toBe('9P2000.u');
  });

  test.each(U_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await runCase(t, c)).toEqual(c.expect);
  });
});

describe('storage service, plain 9P2000', () => {
  let svc: Storage;

  beforeAll(async () => {
    svc = await startStorage();
  });
  afterAll(async () => {
    await svc?.stop();
  });

  test('create (perm masked by the directory, open(5)), write, stat, directory read, remove; errors by name', async () => {
    const c = await Client.connect(svc.addr, { version: '9P2000' });
    expect(c.version).toBe('9P2000');
    const root = await c.attach({});
    fs.chmodSync(svc.dir, 0o755);
    const f = await (await root.clone()).create('p9', 0o666, ORDWR);
    await f.write(0, Buffer.from('plan 9'));
    const st = await f.stat();
    expect(st.mode & 0o777).toBe(0o644);
    expect(st.length).toBe(6);
    expect(st.uid).toBe('root');
    expect(st.extension).toBeUndefined();
    await f.clunk();
    expect(fs.readFileSync(path.join(svc.dir, 'p9'), 'utf8')).toBe('plan 9');
    expect((await root.stat()).name).toBe('/');
    const list = await c.list('');
    expect(list.map((e) => e.name)).toEqual(['p9']);
    expect(await code((await root.clone()).create('p9', 0o644, OREAD))).toBe('EEXIST');
    const g = await root.walk('p9');
    await g.remove();
    expect(fs.existsSync(path.join(svc.dir, 'p9'))).toBe(false);
    await expect(root.walk('p9')).rejects.toMatchObject({ code: 'ENOENT' });
    c.close();
  });
});

/**
 * @prose/client against the real diod (Debian's 9P2000.L server), over loopback TCP and a Unix
 * socket. Every operation is checked against what it did to the exported directory on disk
 * (inode numbers, bytes, modes, sizes, times, link targets), not only against diod's replies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AT_REMOVEDIR, DT_DIR, DT_LNK, DT_REG, Errno, GETATTR_ALL, L_O_CREAT, L_O_EXCL, L_O_RDONLY, L_O_RDWR, L_O_WRONLY, LOCK_BLOCKED,
  LOCK_SUCCESS, LOCK_TYPE_RDLCK, LOCK_TYPE_UNLCK, LOCK_TYPE_WRLCK, MsgType, NinepError, QTDIR, QTSYMLINK, S_IFIFO,
  S_IFMT, S_IFREG, V9FS_MAGIC,
} from '@prose/protocol';
import { AbortError, Client, WalkError, nextCookie, type Fid } from '@prose/client';
import { startDiod, type Diod } from '../support/diod.js';

/** diod 1.0.24 (Debian) caps msize at 64 KiB (srv->msize = 65536; 1 MiB only from v1.1.0). */
const DIOD_MAX_MSIZE = 65536;

function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const ino = (p: string) => BigInt(fs.statSync(p).ino);

/** Resolves once one of diod's threads sleeps in open(2) of a FIFO (waiting for a writer). */
async function untilBlockedInFifoOpen(pid: number): Promise<void> {
  const blocked = () => fs.readdirSync(`/proc/${pid}/task`).some((tid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8') === 'wait_for_partner';
    } catch {
      return false;
    }
  });
  for (let i = 0; i < 500 && !blocked(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!blocked()) throw new Error('diod never blocked in the FIFO open');
}

describe('client against diod over TCP (9P2000.L)', () => {
  /** Why the shared connection closed, once it has; reported by the first afterEach after. */
  let lostWith: Error | undefined;
  let lostReported = false;
  let diod: Diod;
  let client: Client;
  let root: Fid;
  let dir: string;

  beforeAll(async () => {
    diod = await startDiod();
    dir = diod.exportDir;
    client = await Client.connect(diod.addr, { msize: 8 * 1024 * 1024 + 24 });
    void client.whenClosed().then((e) => { lostWith = e ?? new Error('closed'); });
    root = await client.attach({ aname: dir });
  });

  afterAll(async () => {
    try {
      client?.close();
    } finally {
      await diod?.stop();
    }
  });

  afterEach(() => {
    // Nothing the client sends may bring diod down.
    if (!diod.running()) throw new Error(`diod died: ${diod.proc.exitCode ?? diod.proc.signalCode}\n${diod.log()}`);
    // Nor make it drop the connection, which every later test shares: say so once, with diod's log.
    if (lostWith !== undefined && !lostReported) {
      lostReported = true;
      throw new Error(`diod dropped the connection (${lostWith.message}); diod's log:\n${diod.log()}`);
    }
  });

  test('version: 9P2000.L, msize negotiated down to diod\'s maximum', async () => {
    expect(client.version).toBe('9P2000.L');
    expect(client.dialect).toBe('9P2000.L');
    expect(client.msize).toBe(DIOD_MAX_MSIZE);
    expect(client.maxIo).toBe(DIOD_MAX_MSIZE - 24);
    // The default ask (1 MiB + 24) is also answered with diod's maximum.
    const c2 = await Client.connect(diod.addr);
    expect(c2.msize).toBe(DIOD_MAX_MSIZE);
    c2.close();
    // diod speaks only .L: it answers Tversion "9P2000.u" with Rlerror EIO (not Rversion "unknown").
    const err = (await Client.connect(diod.addr, { version: '9P2000.u' }).catch((e: unknown) => e)) as NinepError;
    expect(err).toBeInstanceOf(NinepError);
    expect(err.code).toBe('EIO');
  });

  test('attach: the root qid is the export directory (qid.path = inode)', () => {
    expect(root.qid.type & QTDIR).toBe(QTDIR);
    expect(root.qid.path).toBe(ino(dir));
  });

  test('walk: names to inodes; deep paths split into Twalks of 16; missing names are ENOENT', async () => {
    const names = Array.from({ length: 21 }, (_, i) => `n${i}`);
    fs.mkdirSync(path.join(dir, ...names), { recursive: true });
    fs.writeFileSync(path.join(dir, ...names, 'leaf'), 'deep');
    const f = await root.walk([...names, 'leaf']);
    expect(f.qid.path).toBe(ino(path.join(dir, ...names, 'leaf')));
    expect(f.qid.type).toBe(0);
    await f.lopen(L_O_RDONLY);
    expect((await f.read(0, 100)).toString()).toBe('deep');
    await f.clunk();

    const partial = (await root.walk([...names.slice(0, 18), 'missing', 'x']).catch((e: unknown) => e)) as WalkError;
    expect(partial).toBeInstanceOf(WalkError);
    expect(partial.code).toBe('ENOENT');
    expect(partial.walked).toBe(18);
    const first = (await root.walk('nope').catch((e: unknown) => e)) as WalkError;
    expect(first.errno).toBe(Errno.ENOENT);
    expect(first.walked).toBe(0);
  });

  test('lcreate, write 1 MiB, read it back equal (client and disk)', async () => {
    const data = pattern(1 << 20, 42);
    const f = await (await root.clone()).lcreate('big', L_O_RDWR | L_O_CREAT, 0o640);
    expect(f.qid.path).toBe(ino(path.join(dir, 'big')));
    expect(f.ioSize).toBe(DIOD_MAX_MSIZE - 24);
    expect(await f.writeAll(data, { window: 8 })).toBe(data.length);
    expect((await f.readAll({ window: 8 })).equals(data)).toBe(true);
    await f.clunk();
    expect(fs.readFileSync(path.join(dir, 'big')).equals(data)).toBe(true);
    expect(fs.statSync(path.join(dir, 'big')).mode & 0o777).toBe(0o640);
    expect((await client.readFile('big')).equals(data)).toBe(true);

    await client.writeFile('small', 'hello, diod\n', { mode: 0o600 });
    expect(fs.readFileSync(path.join(dir, 'small'), 'utf8')).toBe('hello, diod\n');
    expect(fs.statSync(path.join(dir, 'small')).mode & 0o777).toBe(0o600);
    await client.writeFile('small', 'over');
    expect(fs.readFileSync(path.join(dir, 'small'), 'utf8')).toBe('over');
  });

  test('streams: 1 MiB through createWriteStream and back through createReadStream', async () => {
    const data = pattern(1 << 20, 7);
    const pieces = [];
    for (let off = 0; off < data.length; off += 10_000) pieces.push(data.subarray(off, off + 10_000));
    await pipeline(Readable.from(pieces), client.createWriteStream('streamed', { window: 4 }));
    expect(fs.readFileSync(path.join(dir, 'streamed')).equals(data)).toBe(true);
    const out: Buffer[] = [];
    for await (const c of client.createReadStream('streamed', { window: 4 })) out.push(c as Buffer);
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  test('readdir of 1,000 entries', async () => {
    const many = path.join(dir, 'many');
    fs.mkdirSync(many);
    const names = Array.from({ length: 1000 }, (_, i) => `file-${String(i).padStart(4, '0')}`);
    for (const n of names) fs.writeFileSync(path.join(many, n), n);
    fs.mkdirSync(path.join(many, 'subdir'));
    fs.symlinkSync('file-0000', path.join(many, 'link'));
    const list = await client.list('many');
    expect(list).toHaveLength(1002);
    expect(list.map((e) => e.name).sort()).toEqual([...names, 'link', 'subdir'].sort());
    const byName = new Map(list.map((e) => [e.name, e]));
    expect(byName.get('file-0123')!.type).toBe(DT_REG);
    expect(byName.get('file-0123')!.qid.path).toBe(ino(path.join(many, 'file-0123')));
    expect(byName.get('subdir')!.type).toBe(DT_DIR);
    expect(byName.get('link')!.type).toBe(DT_LNK);
    // readdirAll on an open directory also gives "." and "..". Read 4 KiB at a time it takes
    // ~9 Treaddirs, each continuing from ext4's 63-bit hash cookie: every entry exactly once.
    const d = await (await root.walk('many')).lopen(L_O_RDONLY);
    const first = await d.readdir(0, 4096);
    expect(first.length).toBeGreaterThan(100);
    expect(first.length).toBeLessThan(200);
    expect(typeof nextCookie(first)).toBe('bigint');
    const all = await d.readdirAll({ count: 4096 });
    expect(all).toHaveLength(1004);
    expect(new Set(all.map((e) => e.name)).size).toBe(1004);
    expect(all.map((e) => e.name)).toEqual(expect.arrayContaining(['.', '..', 'file-0999']));
    expect(all[all.length - 1]!.cookie).toBe(0x7fffffffffffffffn);
    await d.clunk();
  });

  test('getattr: mode, size, nlink, uid, gid, times and inode as on disk', async () => {
    const p = path.join(dir, 'attr');
    fs.writeFileSync(p, 'twelve bytes', { mode: 0o640 });
    fs.chmodSync(p, 0o640);
    const st = fs.statSync(p, { bigint: true });
    const f = await root.walk('attr');
    const a = await f.getattr(GETATTR_ALL);
    expect(a.mode).toBe(S_IFREG | 0o640);
    expect(a.size).toBe(12);
    expect(a.nlink).toBe(1);
    expect(a.uid).toBe(Number(st.uid));
    expect(a.gid).toBe(Number(st.gid));
    expect(BigInt(a.mtimeSec) * 1_000_000_000n + BigInt(a.mtimeNsec)).toBe(st.mtimeNs);
    expect(a.qid.path).toBe(st.ino);
    expect(a.blksize).toBe(Number(st.blksize));
    await f.clunk();
  });

  test('setattr: truncate, mode, atime and mtime (to the nanosecond), and "now"', async () => {
    const p = path.join(dir, 'set');
    fs.writeFileSync(p, pattern(5000));
    const f = await root.walk('set');
    await f.setattr({ size: 1000 });
    expect(fs.statSync(p).size).toBe(1000);
    expect((await f.getattr()).size).toBe(1000);
    await f.setattr({ size: 0 });
    expect(fs.statSync(p).size).toBe(0);
    await f.setattr({ mode: 0o604 });
    expect(fs.statSync(p).mode & 0o7777).toBe(0o604);
    await f.setattr({ atime: { sec: 1_000_000_000, nsec: 123_456_789 }, mtime: { sec: 1_234_567_890, nsec: 987_654_321 } });
    const st = fs.statSync(p, { bigint: true });
    expect(st.atimeNs).toBe(1_000_000_000_123_456_789n);
    expect(st.mtimeNs).toBe(1_234_567_890_987_654_321n);
    await f.setattr({ mtime: new Date('2020-02-02T02:02:02.500Z') });
    expect(fs.statSync(p).mtime.toISOString()).toBe('2020-02-02T02:02:02.500Z');
    const before = Date.now() - 5000;
    await f.setattr({ mtime: 'now', atime: 'now' });
    expect(fs.statSync(p).mtimeMs).toBeGreaterThan(before);
    await f.clunk();
  });

  test('mkdir, and unlinkat of a directory', async () => {
    const qid = await root.mkdir('newdir', 0o750);
    const st = fs.statSync(path.join(dir, 'newdir'));
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o777).toBe(0o750);
    expect(qid.type & QTDIR).toBe(QTDIR);
    expect(qid.path).toBe(BigInt(st.ino));
    await expect(root.mkdir('newdir')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(root.unlinkat('newdir')).rejects.toMatchObject({ code: 'EISDIR' });
    await root.unlinkat('newdir', AT_REMOVEDIR);
    expect(fs.existsSync(path.join(dir, 'newdir'))).toBe(false);
  });

  test('renameat (diod lacks Trenameat: EOPNOTSUPP, so the client falls back to Trename)', async () => {
    fs.mkdirSync(path.join(dir, 'from'));
    fs.mkdirSync(path.join(dir, 'to'));
    fs.writeFileSync(path.join(dir, 'from', 'a'), 'moving');
    const inode = ino(path.join(dir, 'from', 'a'));
    const from = await root.walk('from');
    const to = await root.walk('to');
    const raw = await client.rpc({ type: MsgType.Trenameat, olddirfid: from.fid, oldname: 'a', newdirfid: to.fid, newname: 'b' })
      .catch((e: unknown) => e);
    expect(raw).toMatchObject({ code: 'EOPNOTSUPP', errno: 95 });
    await from.renameat('a', to, 'b');
    expect(client.noRenameat).toBe(true);
    expect(fs.existsSync(path.join(dir, 'from', 'a'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'to', 'b'), 'utf8')).toBe('moving');
    expect(ino(path.join(dir, 'to', 'b'))).toBe(inode);
    await expect(from.renameat('a', to, 'c')).rejects.toMatchObject({ code: 'ENOENT' });
    // Trename directly on a fid.
    const b = await to.walk('b');
    await b.rename(from, 'back');
    expect(fs.readFileSync(path.join(dir, 'from', 'back'), 'utf8')).toBe('moving');
    await Promise.all([from.clunk(), to.clunk(), b.clunk()]);
  });

  test('symlink and readlink', async () => {
    const qid = await root.symlink('ln', 'some/where/else');
    expect(fs.readlinkSync(path.join(dir, 'ln'))).toBe('some/where/else');
    expect(qid.type & QTSYMLINK).toBe(QTSYMLINK);
    const l = await root.walk('ln');
    expect(l.qid.type & QTSYMLINK).toBe(QTSYMLINK);
    expect(await l.readlink()).toBe('some/where/else');
    await l.clunk();
  });

  test('link: a hard link to the same inode; unlinkat removes it, and the name is then ENOENT', async () => {
    fs.writeFileSync(path.join(dir, 'orig'), 'linked');
    const orig = await root.walk('orig');
    await root.link(orig, 'hard');
    expect(ino(path.join(dir, 'hard'))).toBe(ino(path.join(dir, 'orig')));
    expect((await orig.getattr()).nlink).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'hard'), 'utf8')).toBe('linked');
    await root.unlinkat('hard');
    expect(client.noUnlinkat).toBe(true); // diod answers Tunlinkat EOPNOTSUPP; walk + Tremove did it
    expect(fs.existsSync(path.join(dir, 'hard'))).toBe(false);
    expect((await orig.getattr()).nlink).toBe(1);
    await expect(root.walk('hard')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(root.unlinkat('hard')).rejects.toMatchObject({ code: 'ENOENT' });
    await orig.clunk();
  });

  test('mknod of a FIFO', async () => {
    const qid = await root.mknod('fifo', S_IFIFO | 0o600);
    const st = fs.statSync(path.join(dir, 'fifo'));
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(qid.path).toBe(BigInt(st.ino));
    const a = await (await root.walk('fifo')).getattr();
    expect(a.mode & S_IFMT).toBe(S_IFIFO);
  });

  test('statfs: V9FS_MAGIC (no -p) and the numbers of the exported file system', async () => {
    const s = await root.statfs();
    const host = fs.statfsSync(dir);
    expect(s.fsType).toBe(V9FS_MAGIC);
    expect(s.bsize).toBe(host.bsize);
    expect(s.blocks).toBe(host.blocks);
    expect(s.files).toBe(host.files);
    expect(s.namelen).toBe(255);
  });

  test('fsync, plain and datasync', async () => {
    const f = await (await root.clone()).lcreate('synced', L_O_WRONLY | L_O_CREAT, 0o644);
    expect(await f.write(0, Buffer.from('durable'))).toBe(7);
    await f.fsync();
    await f.fsync(true);
    await f.clunk();
    expect(fs.readFileSync(path.join(dir, 'synced'), 'utf8')).toBe('durable');
    // On a fid that is not open diod answers EBADF.
    const g = await root.walk('synced');
    await expect(g.fsync()).rejects.toMatchObject({ code: 'EBADF' });
    await g.clunk();
  });

  test('lock and getlock: a write lock blocks another open, unlock frees it', async () => {
    fs.writeFileSync(path.join(dir, 'locked'), 'x');
    const a = await (await root.walk('locked')).lopen(L_O_RDWR);
    const b = await (await root.walk('locked')).lopen(L_O_RDWR);
    expect(await a.lock({ lockType: LOCK_TYPE_WRLCK })).toBe(LOCK_SUCCESS);
    expect(await b.lock({ lockType: LOCK_TYPE_WRLCK })).toBe(LOCK_BLOCKED);
    expect(await b.lock({ lockType: LOCK_TYPE_RDLCK })).toBe(LOCK_BLOCKED);
    const held = await b.getlock({ lockType: LOCK_TYPE_WRLCK, clientId: 'prose-test' });
    expect(held.lockType).toBe(LOCK_TYPE_WRLCK);
    expect(held.clientId).toBe('prose-test');
    expect(await a.lock({ lockType: LOCK_TYPE_UNLCK })).toBe(LOCK_SUCCESS);
    expect((await b.getlock({ lockType: LOCK_TYPE_WRLCK })).lockType).toBe(LOCK_TYPE_UNLCK);
    expect(await b.lock({ lockType: LOCK_TYPE_RDLCK })).toBe(LOCK_SUCCESS);
    expect(await a.lock({ lockType: LOCK_TYPE_RDLCK })).toBe(LOCK_SUCCESS);
    await Promise.all([a.clunk(), b.clunk()]);
    // Tlock on a fid that is not open: EBADF.
    const c = await root.walk('locked');
    await expect(c.lock()).rejects.toMatchObject({ code: 'EBADF' });
    await c.clunk();
  });

  test('xattrs: setxattr (xattrcreate + write + clunk), getxattr and listxattr (xattrwalk + read)', async () => {
    fs.writeFileSync(path.join(dir, 'xa'), '');
    const f = await root.walk('xa');
    await f.setxattr('user.prose', 'mesh value');
    expect((await f.getxattr('user.prose')).toString()).toBe('mesh value');
    expect(await f.listxattr()).toContain('user.prose');
    await expect(f.getxattr('user.absent')).rejects.toMatchObject({ code: 'ENODATA' });
    await f.clunk();
  });

  test('pipelining: 200 getattrs in flight on 20 fids, each answered with its own file', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `p${i}`);
    names.forEach((n, i) => fs.writeFileSync(path.join(dir, n), Buffer.alloc(i * 10)));
    const fids = await Promise.all(names.map((n) => root.walk(n)));
    const attrs = await Promise.all(Array.from({ length: 200 }, (_, i) => fids[i % 20]!.getattr()));
    attrs.forEach((a, i) => expect(a.size).toBe((i % 20) * 10));
    await Promise.all(fids.map((f) => f.clunk()));
    expect(client.outstanding).toBe(0);
  });

  test('errors carry diod\'s errno', async () => {
    fs.writeFileSync(path.join(dir, 'plain'), 'x');
    const f = await root.walk('plain');
    await expect(f.walk('below')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(f.mkdir('x')).rejects.toMatchObject({ code: 'ENOTDIR' });
    const c = await root.clone();
    await expect(c.lcreate('plain', L_O_CREAT | L_O_EXCL | L_O_WRONLY, 0o644)).rejects.toMatchObject({ code: 'EEXIST' });
    await Promise.all([f.clunk(), c.clunk()]);
  });
});

describe('client against diod over a Unix socket, one worker thread', () => {
  let diod: Diod;
  let client: Client;
  let root: Fid;

  beforeAll(async () => {
    diod = await startDiod({ unix: true, nwthreads: 1 });
    client = await Client.connect(diod.addr);
    root = await client.attach({ aname: diod.exportDir });
  });

  afterAll(async () => {
    try {
      client?.close();
    } finally {
      await diod?.stop();
    }
  });

  test('read and write over the socket', async () => {
    expect(diod.addr).toMatch(/^unix!/);
    const data = pattern(200_000, 3);
    await client.writeFile('u', data);
    expect((await client.readFile('u')).equals(data)).toBe(true);
  });

  test('flush against diod: a queued request is flushed (AbortError); a running one replies first and is honoured', async () => {
    const fifo = path.join(diod.exportDir, 'pipe');
    await root.mknod('pipe', S_IFIFO | 0o600);
    // Opening a FIFO for reading blocks diod's only worker until a writer opens it.
    const opener = await root.walk('pipe');
    const acOpen = new AbortController();
    const opening = opener.lopen(L_O_RDONLY, { signal: acOpen.signal });
    await untilBlockedInFifoOpen(diod.proc.pid!);
    // This getattr waits in diod's queue behind the open; its flush takes it out: Rflush only.
    const acQueued = new AbortController();
    const queued = root.getattr(undefined, { signal: acQueued.signal });
    await new Promise((r) => setTimeout(r, 50));
    acQueued.abort();
    const err = (await queued.catch((e: unknown) => e)) as AbortError;
    expect(err).toBeInstanceOf(AbortError);
    expect(err.code).toBe('EINTR');
    // Flushing the running open: diod defers the Rflush until the open returns, so the Rlopen
    // comes first and the client honours it: the fid ends up open.
    acOpen.abort();
    await new Promise((r) => setTimeout(r, 50));
    expect(client.outstanding).toBe(2); // the Tlopen and its Tflush, both unanswered
    const w = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      const f = await opening;
      expect(f).toBe(opener);
      expect(f.opened).toBe(true);
      // It really is open on diod: Tread reaches the FIFO (diod's pread on it: ESPIPE).
      await expect(f.read(0, 100)).rejects.toMatchObject({ code: 'ESPIPE' });
    } finally {
      fs.closeSync(w);
    }
    await opener.clunk();
    expect(client.outstanding).toBe(0);
    expect((await root.getattr()).qid.path).toBe(root.qid.path);
  });

  test('when diod goes away, pending calls reject with "connection closed"', async () => {
    await root.mknod('pipe2', S_IFIFO | 0o600);
    const f = await root.walk('pipe2');
    const blocked = f.lopen(L_O_RDONLY).catch((e: unknown) => e);
    await untilBlockedInFifoOpen(diod.proc.pid!);
    await diod.stop();
    expect(fs.existsSync(path.dirname(diod.exportDir))).toBe(false);
    const err = (await blocked) as NinepError;
    expect(err).toBeInstanceOf(NinepError);
    expect(err.code).toBe('ECONNRESET');
    expect(err.message).toMatch(/connection closed/);
    await expect(root.getattr()).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

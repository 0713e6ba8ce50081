/**
 * The operation-by-operation suite of the storage service, as a table: each case runs through
 * @prose/client against one server and returns a summary of what it observed (errno codes,
 * bytes, and the host file system's view as booleans), which must equal `expect`. The same
 * table runs against our service and, for the cases marked `diod: true`, against the real diod,
 * so the two are held to the same answers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AT_REMOVEDIR, DT_DIR, DT_LNK, DT_REG, GETATTR_ALL, L_O_CREAT, L_O_EXCL, L_O_RDONLY, L_O_RDWR, L_O_TRUNC,
  L_O_WRONLY, LOCK_BLOCKED, LOCK_SUCCESS, LOCK_TYPE_RDLCK, LOCK_TYPE_UNLCK, LOCK_TYPE_WRLCK, NinepError, QTDIR,
  QTSYMLINK, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, V9FS_MAGIC,
} from '@prose/protocol';
import { Client, type Fid } from '@prose/client';
import { XATTR_CREATE, XATTR_REPLACE, lgetxattr, llistxattr, lsetxattr } from '@prose/posix';
import { pattern } from './helpers.js';

export interface Ctx {
  c: Client;
  /** The attach root. */
  root: Fid;
  /** A fresh directory for this case (walked, not open). */
  dir: Fid;
  /** That directory on the host. */
  host: string;
  server: 'prose' | 'diod';
  /** The server's dial string and the aname of the export (for cases that need their own session). */
  addr: string;
  aname: string;
}

export interface OpCase {
  name: string;
  /** Run against diod too (true), or why not. */
  diod: true | string;
  run(x: Ctx): Promise<unknown>;
  expect: unknown;
}

/** 'ok', or the errno code the promise rejected with. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof NinepError) return e.code;
    throw e;
  }
}

const ino = (p: string) => BigInt(fs.lstatSync(p).ino);

async function opened(dir: Fid, name: string, flags: number): Promise<Fid> {
  return (await dir.walk(name)).lopen(flags);
}

export const L_CASES: OpCase[] = [
  {
    name: 'walk and getattr agree with the host (qid.path = inode, type bits, mode, size, nlink, owner, times)',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'f'), 'twelve bytes');
      fs.chmodSync(path.join(host, 'f'), 0o640);
      fs.mkdirSync(path.join(host, 'd'));
      fs.symlinkSync('f', path.join(host, 'l'));
      const [f, d, l] = await Promise.all([dir.walk('f'), dir.walk('d'), dir.walk('l')]);
      const a = await f.getattr(GETATTR_ALL);
      const st = fs.statSync(path.join(host, 'f'), { bigint: true });
      const r = {
        fileQid: f.qid.path === ino(path.join(host, 'f')) && f.qid.type === 0,
        dirQid: d.qid.path === ino(path.join(host, 'd')) && (d.qid.type & QTDIR) === QTDIR,
        linkQid: l.qid.path === ino(path.join(host, 'l')) && (l.qid.type & QTSYMLINK) === QTSYMLINK,
        mode: (a.mode & 0o7777).toString(8),
        type: (a.mode & S_IFMT) === S_IFREG,
        size: a.size,
        nlink: a.nlink,
        owner: a.uid === Number(st.uid) && a.gid === Number(st.gid),
        mtime: BigInt(a.mtimeSec) * 1_000_000_000n + BigInt(a.mtimeNsec) === st.mtimeNs,
        dirMode: ((await d.getattr()).mode & S_IFMT).toString(8),
      };
      await Promise.all([f.clunk(), d.clunk(), l.clunk()]);
      return r;
    },
    expect: { fileQid: true, dirQid: true, linkQid: true, mode: '640', type: true, size: 12, nlink: 1, owner: true, mtime: true, dirMode: '40000' },
  },
  {
    name: 'walk: a missing name is ENOENT, a name below a file ENOTDIR',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'plain'), 'x');
      const f = await dir.walk('plain');
      const r = { missing: await code(dir.walk('nope')), below: await code(f.walk('below')) };
      await f.clunk();
      return r;
    },
    expect: { missing: 'ENOENT', below: 'ENOTDIR' },
  },
  {
    name: 'walk of ".." at the root stays at the root',
    diod: 'diod 1.0.24 walks ".." of the export root to its parent directory',
    async run({ root }) {
      const up = await root.walk(['..', '..', '..']);
      const r = { same: up.qid.path === root.qid.path };
      await up.clunk();
      return r;
    },
    expect: { same: true },
  },
  {
    name: 'lcreate, write 300 KB, read it back (client and host), mode as asked',
    diod: true,
    async run({ dir, host }) {
      const data = pattern(300_000, 9);
      const f = await (await dir.clone()).lcreate('new', L_O_RDWR | L_O_CREAT, 0o640);
      const r = {
        qid: f.qid.path === ino(path.join(host, 'new')),
        wrote: await f.writeAll(data, { window: 4 }),
        readBack: (await f.readAll({ window: 4 })).equals(data),
        host: fs.readFileSync(path.join(host, 'new')).equals(data),
        mode: (fs.statSync(path.join(host, 'new')).mode & 0o777).toString(8),
      };
      await f.clunk();
      return r;
    },
    expect: { qid: true, wrote: 300_000, readBack: true, host: true, mode: '640' },
  },
  {
    name: 'lcreate with O_EXCL of an existing name: EEXIST; without O_EXCL: opens it',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'there'), 'old');
      const a = await dir.clone();
      const excl = await code(a.lcreate('there', L_O_CREAT | L_O_EXCL | L_O_WRONLY, 0o644));
      await a.clunk();
      const b = await dir.clone();
      await b.lcreate('there', L_O_CREAT | L_O_RDWR, 0o644);
      const content = (await b.read(0, 100)).toString();
      await b.clunk();
      return { excl, content };
    },
    expect: { excl: 'EEXIST', content: 'old' },
  },
  {
    name: 'lopen with O_TRUNC empties the file; O_APPEND writes at the end',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 't'), '0123456789');
      const f = await opened(dir, 't', L_O_WRONLY | L_O_TRUNC);
      const size = fs.statSync(path.join(host, 't')).size;
      await f.write(0, Buffer.from('abc'));
      await f.clunk();
      const g = await opened(dir, 't', L_O_WRONLY | 0o2000);
      await g.write(0, Buffer.from('def'));
      await g.clunk();
      return { size, content: fs.readFileSync(path.join(host, 't'), 'utf8') };
    },
    expect: { size: 0, content: 'abcdef' },
  },
  {
    name: 'setattr: truncate, chmod, explicit times (µs), and "now"',
    diod: true,
    async run({ dir, host }) {
      const p = path.join(host, 's');
      fs.writeFileSync(p, pattern(5000));
      const f = await dir.walk('s');
      await f.setattr({ size: 1000 });
      const size = fs.statSync(p).size;
      await f.setattr({ mode: 0o604 });
      const mode = (fs.statSync(p).mode & 0o7777).toString(8);
      await f.setattr({ atime: { sec: 1_000_000_000, nsec: 123_456_000 }, mtime: { sec: 1_234_567_890, nsec: 987_654_000 } });
      const st = fs.statSync(p, { bigint: true });
      const before = Date.now() - 5000;
      await f.setattr({ mtime: 'now', atime: 'now' });
      const now = fs.statSync(p);
      await f.clunk();
      return {
        size, mode, atime: st.atimeNs.toString(), mtime: st.mtimeNs.toString(),
        nowM: now.mtimeMs > before && now.mtimeMs < Date.now() + 5000, nowA: now.atimeMs > before,
      };
    },
    expect: { size: 1000, mode: '604', atime: '1000000000123456000', mtime: '1234567890987654000', nowM: true, nowA: true },
  },
  {
    name: 'mkdir (mode as asked), mkdir of an existing name EEXIST, unlinkat without AT_REMOVEDIR EISDIR',
    diod: true,
    async run({ dir, host }) {
      const qid = await dir.mkdir('sub', 0o750);
      const st = fs.statSync(path.join(host, 'sub'));
      const r = {
        qid: qid.path === BigInt(st.ino) && (qid.type & QTDIR) === QTDIR,
        mode: (st.mode & 0o777).toString(8),
        again: await code(dir.mkdir('sub')),
        asFile: await code(dir.unlinkat('sub')),
        removed: await code(dir.unlinkat('sub', AT_REMOVEDIR)),
        gone: !fs.existsSync(path.join(host, 'sub')),
      };
      return r;
    },
    expect: { qid: true, mode: '750', again: 'EEXIST', asFile: 'EISDIR', removed: 'ok', gone: true },
  },
  {
    name: 'rmdir of a non-empty directory: ENOTEMPTY; unlinkat of a file with AT_REMOVEDIR: ENOTDIR',
    diod: true,
    async run({ dir, host }) {
      fs.mkdirSync(path.join(host, 'full'));
      fs.writeFileSync(path.join(host, 'full', 'x'), 'x');
      fs.writeFileSync(path.join(host, 'file'), 'x');
      return {
        full: await code(dir.unlinkat('full', AT_REMOVEDIR)),
        still: fs.existsSync(path.join(host, 'full', 'x')),
        file: await code(dir.unlinkat('file', AT_REMOVEDIR)),
        missing: await code(dir.unlinkat('missing')),
      };
    },
    expect: { full: 'ENOTEMPTY', still: true, file: 'ENOTDIR', missing: 'ENOENT' },
  },
  {
    name: 'symlink and readlink (targets are stored, not followed)',
    diod: true,
    async run({ dir, host }) {
      const qid = await dir.symlink('sl', 'some/where/else');
      const l = await dir.walk('sl');
      const r = {
        host: fs.readlinkSync(path.join(host, 'sl')),
        qid: (qid.type & QTSYMLINK) === QTSYMLINK && qid.path === ino(path.join(host, 'sl')),
        walked: (l.qid.type & QTSYMLINK) === QTSYMLINK,
        target: await l.readlink(),
        abs: await code(dir.symlink('abs', '/etc/passwd')),
        absTarget: fs.readlinkSync(path.join(host, 'abs')),
      };
      await l.clunk();
      return r;
    },
    expect: { host: 'some/where/else', qid: true, walked: true, target: 'some/where/else', abs: 'ok', absTarget: '/etc/passwd' },
  },
  {
    name: 'hard links: same inode, nlink counts up and down',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'orig'), 'linked');
      const orig = await dir.walk('orig');
      await dir.link(orig, 'h1');
      await dir.link(orig, 'h2');
      const n3 = (await orig.getattr()).nlink;
      const same = ino(path.join(host, 'h1')) === ino(path.join(host, 'orig')) && ino(path.join(host, 'h2')) === ino(path.join(host, 'orig'));
      await dir.unlinkat('h1');
      const n2 = (await orig.getattr()).nlink;
      const again = await code(dir.link(orig, 'h2'));
      const sub = await dir.walk([]);
      const dirLink = await code(dir.link(sub, 'dl'));
      await Promise.all([orig.clunk(), sub.clunk()]);
      return { n3, same, n2, hostN: fs.statSync(path.join(host, 'orig')).nlink, again, dirLink };
    },
    expect: { n3: 3, same: true, n2: 2, hostN: 2, again: 'EEXIST', dirLink: 'EPERM' },
  },
  {
    name: 'Trename of a walked fid into another directory',
    diod: true,
    async run({ dir, host }) {
      fs.mkdirSync(path.join(host, 'to'));
      fs.writeFileSync(path.join(host, 'mv'), 'moving');
      const before = ino(path.join(host, 'mv'));
      const [f, to] = await Promise.all([dir.walk('mv'), dir.walk('to')]);
      await f.rename(to, 'moved');
      const r = {
        gone: !fs.existsSync(path.join(host, 'mv')),
        there: fs.readFileSync(path.join(host, 'to', 'moved'), 'utf8'),
        same: ino(path.join(host, 'to', 'moved')) === before,
        attr: (await f.getattr()).size,
      };
      await Promise.all([f.clunk(), to.clunk()]);
      return r;
    },
    expect: { gone: true, there: 'moving', same: true, attr: 6 },
  },
  {
    name: 'renameat over an existing file replaces it; over a non-empty directory ENOTEMPTY; into itself EINVAL',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'a'), 'AAA');
      fs.writeFileSync(path.join(host, 'b'), 'B');
      const ia = ino(path.join(host, 'a'));
      await dir.renameat('a', dir, 'b');
      const replaced = fs.readFileSync(path.join(host, 'b'), 'utf8') === 'AAA' && !fs.existsSync(path.join(host, 'a')) && ino(path.join(host, 'b')) === ia;
      fs.mkdirSync(path.join(host, 'd1'));
      fs.mkdirSync(path.join(host, 'd2'));
      fs.writeFileSync(path.join(host, 'd2', 'keep'), 'k');
      const notEmpty = await code(dir.renameat('d1', dir, 'd2'));
      fs.mkdirSync(path.join(host, 'p'));
      const p = await dir.walk('p');
      const intoSelf = await code(dir.renameat('p', p, 'q'));
      await p.clunk();
      fs.rmSync(path.join(host, 'd2', 'keep'));
      const overEmpty = await code(dir.renameat('d1', dir, 'd2'));
      return { replaced, notEmpty, intoSelf, overEmpty, d1: fs.existsSync(path.join(host, 'd1')) };
    },
    expect: { replaced: true, notEmpty: 'ENOTEMPTY', intoSelf: 'EINVAL', overEmpty: 'ok', d1: false },
  },
  {
    name: 'mknod of a FIFO',
    diod: true,
    async run({ dir, host }) {
      const qid = await dir.mknod('fifo', S_IFIFO | 0o640);
      const st = fs.lstatSync(path.join(host, 'fifo'));
      const f = await dir.walk('fifo');
      const a = await f.getattr();
      await f.clunk();
      return { fifo: st.isFIFO(), mode: (st.mode & 0o777).toString(8), qid: qid.path === BigInt(st.ino), type: (a.mode & S_IFMT) === S_IFIFO, again: await code(dir.mknod('fifo', S_IFIFO | 0o600)) };
    },
    expect: { fifo: true, mode: '640', qid: true, type: true, again: 'EEXIST' },
  },
  {
    name: 'statfs: the numbers of the exported file system',
    diod: true,
    async run({ dir, host }) {
      const s = await dir.statfs();
      const h = fs.statfsSync(host);
      return {
        type: s.fsType === V9FS_MAGIC, bsize: s.bsize === h.bsize, blocks: s.blocks === h.blocks, files: s.files === h.files,
        free: Math.abs(s.bfree - h.bfree) < 100_000, namelen: s.namelen,
      };
    },
    expect: { type: true, bsize: true, blocks: true, files: true, free: true, namelen: 255 },
  },
  {
    name: 'fsync and fdatasync of an open file; of a fid that is not open: EBADF',
    diod: true,
    async run({ dir, host }) {
      const f = await (await dir.clone()).lcreate('synced', L_O_WRONLY | L_O_CREAT, 0o644);
      await f.write(0, Buffer.from('durable'));
      const r = { fsync: await code(f.fsync()), fdatasync: await code(f.fsync(true)) };
      await f.clunk();
      const g = await dir.walk('synced');
      const notOpen = await code(g.fsync());
      await g.clunk();
      return { ...r, notOpen, host: fs.readFileSync(path.join(host, 'synced'), 'utf8') };
    },
    expect: { fsync: 'ok', fdatasync: 'ok', notOpen: 'EBADF', host: 'durable' },
  },
  {
    name: 'readdir of 1,000 entries in 4 KiB pieces: every entry once, types and inodes right',
    diod: true,
    async run({ dir, host }) {
      const names = Array.from({ length: 1000 }, (_, i) => `file-${String(i).padStart(4, '0')}`);
      for (const n of names) fs.writeFileSync(path.join(host, n), '');
      fs.mkdirSync(path.join(host, 'subdir'));
      fs.symlinkSync('file-0000', path.join(host, 'link'));
      const d = await (await dir.clone()).lopen(L_O_RDONLY);
      const all = await d.readdirAll({ count: 4096 });
      const again = await d.readdirAll();
      await d.clunk();
      const by = new Map(all.map((e) => [e.name, e]));
      return {
        count: all.length,
        unique: new Set(all.map((e) => e.name)).size,
        dots: by.has('.') && by.has('..'),
        file: by.get('file-0123')?.type === DT_REG && by.get('file-0123')?.qid.path === ino(path.join(host, 'file-0123')),
        sub: by.get('subdir')?.type === DT_DIR,
        link: by.get('link')?.type === DT_LNK,
        rewound: again.length,
        listed: (await dir.walk([]).then(async (x) => { const l = await x.list(); await x.clunk(); return l.length; })),
      };
    },
    expect: { count: 1004, unique: 1004, dots: true, file: true, sub: true, link: true, rewound: 1004, listed: 1002 },
  },
  {
    name: 'an open file keeps working after unlink: read and write through the fid',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'doomed'), 'still here');
      const f = await opened(dir, 'doomed', L_O_RDWR);
      await dir.unlinkat('doomed');
      const gone = !fs.existsSync(path.join(host, 'doomed'));
      const data = (await f.read(0, 100)).toString();
      await f.write(10, Buffer.from('!'));
      const again = (await f.read(0, 100)).toString();
      await f.clunk();
      return { gone, data, again };
    },
    expect: { gone: true, data: 'still here', again: 'still here!' },
  },
  {
    name: 'an open file keeps working after unlink: getattr and fsync through the fid',
    diod: 'diod 1.0.24 stats by path: getattr of an unlinked open file is ENOENT (the POSIX gap of research §4.7)',
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'doomed2'), 'still here');
      const f = await opened(dir, 'doomed2', L_O_RDWR);
      await dir.unlinkat('doomed2');
      await f.write(10, Buffer.from('!'));
      const a = await f.getattr();
      const sync = await code(f.fsync());
      await f.clunk();
      return { nlink: a.nlink, size: a.size, sync };
    },
    expect: { nlink: 0, size: 11, sync: 'ok' },
  },
  {
    name: 'locks: a write lock blocks another owner, getlock names it, unlock frees it',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'locked'), 'x');
      const a = await opened(dir, 'locked', L_O_RDWR);
      const b = await opened(dir, 'locked', L_O_RDWR);
      const r = {
        aW: await a.lock({ lockType: LOCK_TYPE_WRLCK, procId: 1 }),
        bW: await b.lock({ lockType: LOCK_TYPE_WRLCK, procId: 2 }),
        bR: await b.lock({ lockType: LOCK_TYPE_RDLCK, procId: 2 }),
        held: (await b.getlock({ lockType: LOCK_TYPE_WRLCK, procId: 2 })).lockType,
        aU: await a.lock({ lockType: LOCK_TYPE_UNLCK, procId: 1 }),
        free: (await b.getlock({ lockType: LOCK_TYPE_WRLCK, procId: 2 })).lockType,
        bR2: await b.lock({ lockType: LOCK_TYPE_RDLCK, procId: 2 }),
        aR: await a.lock({ lockType: LOCK_TYPE_RDLCK, procId: 1 }),
        aW2: await a.lock({ lockType: LOCK_TYPE_WRLCK, procId: 1 }),
      };
      await Promise.all([a.clunk(), b.clunk()]);
      const c = await dir.walk('locked');
      const notOpen = await code(c.lock());
      await c.clunk();
      return { ...r, notOpen };
    },
    expect: {
      aW: LOCK_SUCCESS, bW: LOCK_BLOCKED, bR: LOCK_BLOCKED, held: LOCK_TYPE_WRLCK, aU: LOCK_SUCCESS, free: LOCK_TYPE_UNLCK,
      bR2: LOCK_SUCCESS, aR: LOCK_SUCCESS, aW2: LOCK_BLOCKED, notOpen: 'EBADF',
    },
  },
  {
    name: 'symlink loops: opening one is ELOOP, walking stops at the link',
    diod: true,
    async run({ dir }) {
      await dir.symlink('loop1', 'loop2');
      await dir.symlink('loop2', 'loop1');
      await dir.symlink('self', 'self');
      const l1 = await dir.walk('loop1');
      const s = await dir.walk('self');
      const r = {
        loop: await code(l1.lopen(L_O_RDONLY)),
        self: await code(s.lopen(L_O_RDONLY)),
        qid: (l1.qid.type & QTSYMLINK) === QTSYMLINK,
        target: await l1.readlink(),
      };
      await Promise.all([l1.clunk(), s.clunk()]);
      return r;
    },
    expect: { loop: 'ELOOP', self: 'ELOOP', qid: true, target: 'loop2' },
  },
  {
    name: 'names over 255 bytes: ENAMETOOLONG (255 is fine)',
    diod: true,
    async run({ dir, host }) {
      const long = 'x'.repeat(256);
      const ok = 'y'.repeat(255);
      const c1 = await dir.clone();
      const create = await code(c1.lcreate(long, L_O_CREAT | L_O_WRONLY, 0o644));
      await c1.clunk();
      const c2 = await dir.clone();
      const create255 = await code(c2.lcreate(ok, L_O_CREAT | L_O_WRONLY, 0o644));
      await c2.clunk();
      return {
        walk: await code(dir.walk(long)),
        create,
        mkdir: await code(dir.mkdir(long)),
        symlink: await code(dir.symlink(long, 'x')),
        create255,
        there: fs.existsSync(path.join(host, ok)),
      };
    },
    expect: { walk: 'ENAMETOOLONG', create: 'ENAMETOOLONG', mkdir: 'ENAMETOOLONG', symlink: 'ENAMETOOLONG', create255: 'ok', there: true },
  },
  {
    name: 'qid.version changes when the content changes, and only then',
    diod: 'diod 1.0.24 always answers qid.version 0',
    async run({ dir }) {
      const f = await (await dir.clone()).lcreate('v', L_O_RDWR | L_O_CREAT, 0o644);
      const v0 = (await f.getattr()).qid.version;
      const v0b = (await f.getattr()).qid.version;
      await new Promise((r) => setTimeout(r, 5));
      await f.write(0, Buffer.from('more'));
      const v1 = (await f.getattr()).qid.version;
      await f.clunk();
      return { stable: v0 === v0b, changed: v1 !== v0 };
    },
    expect: { stable: true, changed: true },
  },
  {
    name: 'mknod of a device node: EPERM (refused by policy)',
    diod: 'diod running as root creates device nodes',
    async run({ dir, host }) {
      return { chr: await code(dir.mknod('null', S_IFCHR | 0o666, 1, 3)), none: !fs.existsSync(path.join(host, 'null')) };
    },
    expect: { chr: 'EPERM', none: true },
  },
  {
    name: 'xattrs: set, get, list and remove user.* attributes (a zero-sized create removes)',
    diod: true,
    async run({ dir, host }) {
      const p = path.join(host, 'xa');
      fs.writeFileSync(p, '');
      const f = await dir.walk('xa');
      const bin = Buffer.from([0, 1, 2, 0xfe, 0xff]);
      await f.setxattr('user.one', 'first');
      await f.setxattr('user.two', bin);
      const r = {
        get: (await f.getxattr('user.one')).toString(),
        bin: (await f.getxattr('user.two')).equals(bin),
        list: (await f.listxattr()).filter((n) => n.startsWith('user.')).sort(),
        host: lgetxattr(p, 'user.one').toString(),
        replace: await code(f.setxattr('user.one', 'second', XATTR_REPLACE)),
        replaced: (await f.getxattr('user.one')).toString(),
        remove: await code(f.setxattr('user.one', Buffer.alloc(0), XATTR_REPLACE)),
        gone: await code(f.getxattr('user.one')),
        hostGone: llistxattr(p).filter((n) => n.startsWith('user.')),
        removeAgain: await code(f.setxattr('user.one', Buffer.alloc(0), XATTR_REPLACE)),
        missing: await code(f.getxattr('user.never')),
      };
      await f.clunk();
      return r;
    },
    expect: {
      get: 'first', bin: true, list: ['user.one', 'user.two'], host: 'first', replace: 'ok', replaced: 'second', remove: 'ok',
      gone: 'ENODATA', hostGone: ['user.two'], removeAgain: 'ENODATA', missing: 'ENODATA',
    },
  },
  {
    name: 'xattrs: XATTR_CREATE of an existing name is EEXIST, XATTR_REPLACE of a missing one ENODATA; directories have them too',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'xf'), '');
      fs.mkdirSync(path.join(host, 'xd'));
      const f = await dir.walk('xf');
      const d = await dir.walk('xd');
      await f.setxattr('user.k', 'v', XATTR_CREATE);
      const r = {
        create: await code(f.setxattr('user.k', 'w', XATTR_CREATE)),
        kept: (await f.getxattr('user.k')).toString(),
        replace: await code(f.setxattr('user.absent', 'w', XATTR_REPLACE)),
        absent: await code(f.getxattr('user.absent')),
        dirSet: await code(d.setxattr('user.d', 'on a directory')),
        dirGet: lgetxattr(path.join(host, 'xd'), 'user.d').toString(),
      };
      await Promise.all([f.clunk(), d.clunk()]);
      return r;
    },
    expect: { create: 'EEXIST', kept: 'v', replace: 'ENODATA', absent: 'ENODATA', dirSet: 'ok', dirGet: 'on a directory' },
  },
  {
    name: 'xattrs: a value over 64 KiB is E2BIG, and nothing is set',
    diod: true,
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'xhuge'), '');
      const f = await dir.walk('xhuge');
      const r = { set: await code(f.setxattr('user.huge', Buffer.alloc(65537, 1))), there: await code(f.getxattr('user.huge')) };
      await f.clunk();
      return r;
    },
    expect: { set: 'E2BIG', there: 'ENODATA' },
  },
  {
    name: 'xattrs: fids keep their file after it is unlinked (read through the open fid, set through a walked one)',
    diod: 'diod 1.0.24 reaches xattrs by path: an unlinked file has none',
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'xgone'), 'data');
      const f = await opened(dir, 'xgone', L_O_RDWR);
      const g = await dir.walk('xgone');
      await g.setxattr('user.before', 'unlink');
      await dir.unlinkat('xgone');
      const r = {
        get: (await f.getxattr('user.before')).toString(),
        setAfter: await code(g.setxattr('user.after', 'too')),
        list: (await f.listxattr()).filter((n) => n.startsWith('user.')).sort(),
        gone: fs.existsSync(path.join(host, 'xgone')),
      };
      await Promise.all([f.clunk(), g.clunk()]);
      return r;
    },
    expect: { get: 'unlink', setAfter: 'ok', list: ['user.after', 'user.before'], gone: false },
  },
  {
    name: 'xattrs: a value larger than one message is written and read in pieces',
    diod: true,
    async run({ addr, aname, host }) {
      const c = await Client.connect(addr, { msize: 1024 + 24 });
      try {
        const root = await c.attach({ aname });
        const f = await root.walk([path.basename(host)]);
        fs.writeFileSync(path.join(host, 'xbig'), '');
        const g = await f.walk('xbig');
        const v = pattern(3000, 5);
        const set = await code(g.setxattr('user.big', v));
        const back = await g.getxattr('user.big');
        return { msize: c.msize, set, back: back.equals(v), host: lgetxattr(path.join(host, 'xbig'), 'user.big').equals(v) };
      } finally {
        c.close();
      }
    },
    expect: { msize: 1048, set: 'ok', back: true, host: true },
  },
  {
    name: 'xattrs: on a symlink pointing outside the root, nothing reaches the target',
    diod: true,
    async run({ dir, host }) {
      // The target lives beside the export, outside it.
      const outside = path.join(path.dirname(path.dirname(host)), `outside-${path.basename(host)}`);
      fs.writeFileSync(outside, 'secret');
      lsetxattr(outside, 'user.secret', 's');
      fs.symlinkSync(outside, path.join(host, 'out'));
      const l = await dir.walk('out');
      const r = {
        get: await code(l.getxattr('user.secret')),
        list: (await l.listxattr()).includes('user.secret'),
        set: await code(l.setxattr('user.k', 'v')),
        remove: await code(l.setxattr('user.secret', Buffer.alloc(0))),
        target: llistxattr(outside).filter((n) => n.startsWith('user.')),
        value: lgetxattr(outside, 'user.secret').toString(),
      };
      await l.clunk();
      fs.rmSync(outside);
      return r;
    },
    expect: { get: 'ENODATA', list: false, set: 'EPERM', remove: 'EPERM', target: ['user.secret'], value: 's' },
  },
];

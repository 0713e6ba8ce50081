/**
 * Escape tests: hostile walks, names and symlinks (including symlinks swapped in after a walk),
 * renames and hard links never read or change anything outside the export root. The root is
 * `<base>/export`; beside it lies `<base>/outside` with a secret file and a directory, whose
 * host fingerprint (content, modes, owners, link counts, times) must not change.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, type Fid } from '@prose/client';
import {
  DMLINK, DMSYMLINK, L_O_CREAT, L_O_RDONLY, L_O_RDWR, L_O_TRUNC, L_O_WRONLY, OREAD, QTSYMLINK, S_IFIFO,
} from '@prose/protocol';
import { lgetxattr, llistxattr, lsetxattr } from '@prose/posix';
import { code } from './suite.js';
import { fingerprint, startStorage, type Storage } from './helpers.js';

jest.setTimeout(30000);

describe('nothing outside the export root is reachable or modifiable', () => {
  let base: string;
  let outside: string;
  let svc: Storage;
  let c: Client;
  let root: Fid;
  let before: string[];

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-escape-'));
    outside = path.join(base, 'outside');
    fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret'), 'top secret');
    fs.writeFileSync(path.join(outside, 'dir', 'inner'), 'inner secret');
    lsetxattr(path.join(outside, 'secret'), 'user.secret', 'kept');
    svc = await startStorage([], { base });
    const d = svc.dir;
    fs.mkdirSync(path.join(d, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(d, 'inside'), 'inside');
    fs.symlinkSync(path.join(outside, 'secret'), path.join(d, 'abs-file'));
    fs.symlinkSync(outside, path.join(d, 'abs-dir'));
    fs.symlinkSync('../outside/secret', path.join(d, 'rel-file'));
    fs.symlinkSync('../../outside', path.join(d, 'sub', 'rel-dir'));
    fs.symlinkSync('/', path.join(d, 'slash'));
    before = fingerprint(outside);
    c = await Client.connect(svc.addr);
    root = await c.attach({});
  });

  afterEach(() => {
    expect(fingerprint(outside)).toEqual(before);
  });

  afterAll(async () => {
    c?.close();
    await svc?.stop(true);
    fs.rmSync(base, { recursive: true, force: true });
  });

  test('"..": at the root it stays there; "../.." from anywhere never leaves the root', async () => {
    for (const p of [['..'], ['..', '..'], ['sub', '..', '..', '..'], ['sub', 'deeper', '..', '..', '..', '..']]) {
      const f = await root.walk(p);
      expect(f.qid.path).toBe(root.qid.path);
      await f.clunk();
    }
    expect(await code(root.walk(['..', 'outside']))).toBe('ENOENT');
    expect(await code(root.walk(['sub', '..', '..', 'outside', 'secret']))).toBe('ENOENT');
    const up = await root.walk(['..', '..']);
    const names = (await up.list()).map((e) => e.name).sort();
    expect(names).toEqual(fs.readdirSync(svc.dir).sort());
    await up.clunk();
    // ".." from a subdirectory is its parent.
    const s = await root.walk(['sub', 'deeper', '..']);
    expect(s.qid.path).toBe(BigInt(fs.statSync(path.join(svc.dir, 'sub')).ino));
    await s.clunk();
  });

  test('names with "/", "." or ".." are refused for every operation that takes a name', async () => {
    const r = {
      walkSlash: await code(root.walk([['sub', 'deeper'].join('/')])),
      lcreate: await code((await root.clone()).lcreate('../evil', L_O_CREAT | L_O_WRONLY, 0o644)),
      mkdir: await code(root.mkdir('..')),
      symlink: await code(root.symlink('a/b', 'x')),
      renameat: await code(root.renameat('inside', root, '../stolen')),
      unlinkat: await code(root.unlinkat('../outside/secret')),
      dotdot: await code(root.unlinkat('..')),
    };
    expect(r).toEqual({ walkSlash: 'EINVAL', lcreate: 'EINVAL', mkdir: 'EINVAL', symlink: 'EINVAL', renameat: 'EINVAL', unlinkat: 'EINVAL', dotdot: 'EINVAL' });
    expect(fs.existsSync(path.join(base, 'evil'))).toBe(false);
    expect(fs.existsSync(path.join(base, 'stolen'))).toBe(false);
  });

  test('absolute and relative symlinks to outside are never followed', async () => {
    for (const name of ['abs-file', 'rel-file', 'abs-dir', 'slash']) {
      const l = await root.walk(name);
      expect(l.qid.type & QTSYMLINK).toBe(QTSYMLINK);
      expect(await code(l.lopen(L_O_RDONLY))).toBe('ELOOP');
      expect(await code(l.walk('secret'))).toBe('ENOTDIR');
      // setattr through a symlink acts on the link itself, never on its target.
      expect(await code(l.setattr({ mode: 0o777 }))).toBe('EOPNOTSUPP');
      expect(await code(l.setattr({ size: 0 }))).toBe('EINVAL');
      await l.setattr({ mtime: { sec: 1000 } });
      expect(await code(l.getattr())).toBe('ok');
      await l.clunk();
    }
    expect(await code(root.walk(['abs-dir', 'secret']))).toBe('ENOENT');
    expect(await code(root.walk(['sub', 'rel-dir', 'dir', 'inner']))).toBe('ENOENT');
    expect(await code(root.walk(['slash', 'etc', 'passwd']))).toBe('ENOENT');
    // Creating "through" a symlink name: O_CREAT never follows it.
    expect(await code((await root.clone()).lcreate('abs-file', L_O_CREAT | L_O_WRONLY | L_O_TRUNC, 0o644))).toBe('ELOOP');
    expect(await code(root.mkdir('abs-dir'))).toBe('EEXIST');
    expect(await code(root.mknod('rel-file', S_IFIFO | 0o600))).toBe('EEXIST');
    expect(fs.lstatSync(path.join(svc.dir, 'abs-file')).mtimeMs).toBe(1_000_000);
  });

  test('xattrs through symlinks to outside, and through a fid whose name became one, never touch outside', async () => {
    const targets = [path.join(outside, 'secret'), outside, path.join(outside, 'dir')];
    const xattrsOutside = () => targets.map((t) => llistxattr(t).filter((n) => n.startsWith('user.')).sort());
    const was = xattrsOutside();
    for (const name of ['abs-file', 'rel-file', 'abs-dir', 'slash']) {
      const l = await root.walk(name);
      expect(await code(l.getxattr('user.secret'))).toBe('ENODATA');
      expect(await l.listxattr()).not.toContain('user.secret');
      expect(await code(l.setxattr('user.k', 'v'))).toBe('EPERM');
      expect(await code(l.setxattr('user.secret', Buffer.alloc(0)))).toBe('EPERM');
      await l.clunk();
    }
    // A file walked to, then replaced on the host by a symlink to outside: the fid keeps its inode.
    fs.writeFileSync(path.join(svc.dir, 'xvictim'), 'inside');
    const v = await root.walk('xvictim');
    fs.rmSync(path.join(svc.dir, 'xvictim'));
    fs.symlinkSync(path.join(outside, 'secret'), path.join(svc.dir, 'xvictim'));
    expect(await code(v.setxattr('user.k', 'on the old inode'))).toBe('ok');
    expect((await v.getxattr('user.k')).toString()).toBe('on the old inode');
    expect(await code(v.getxattr('user.secret'))).toBe('ENODATA');
    await v.clunk();
    expect(xattrsOutside()).toEqual(was);
    expect(lgetxattr(path.join(outside, 'secret'), 'user.secret').toString()).toBe('kept');
  });

  test('a hard link to a symlink links the symlink, not its target outside', async () => {
    const l = await root.walk('abs-file');
    await root.link(l, 'hard-to-link');
    expect(fs.lstatSync(path.join(svc.dir, 'hard-to-link')).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(path.join(svc.dir, 'hard-to-link')).ino).toBe(fs.lstatSync(path.join(svc.dir, 'abs-file')).ino);
    await l.clunk();
    // .u Tcreate with DMLINK and DMSYMLINK: the same.
    const u = await Client.connect(svc.addr, { version: '9P2000.u' });
    const ur = await u.attach({});
    const ul = await ur.walk('abs-file');
    await (await ur.clone()).create('u-hard', DMLINK, OREAD, { extension: String(ul.fid) });
    await (await ur.clone()).create('u-sym', DMSYMLINK | 0o777, OREAD, { extension: path.join(outside, 'secret') });
    const us = await ur.walk('u-sym');
    expect(await code(us.open(OREAD))).toBe('ELOOP');
    u.close();
    expect(fs.lstatSync(path.join(svc.dir, 'u-hard')).isSymbolicLink()).toBe(true);
  });

  test('symlinks swapped in after a walk: the fids keep their files, outside is untouched', async () => {
    const d = svc.dir;
    fs.mkdirSync(path.join(d, 'victim-dir'));
    fs.writeFileSync(path.join(d, 'victim-dir', 'secret'), 'decoy');
    fs.writeFileSync(path.join(d, 'victim'), 'original');
    const vdir = await root.walk('victim-dir');
    const vfile = await root.walk('victim');
    const vfile2 = await root.walk('victim');
    // The attack: move the walked files away and put symlinks to outside in their place.
    fs.renameSync(path.join(d, 'victim-dir'), path.join(d, 'victim-dir.old'));
    fs.symlinkSync(outside, path.join(d, 'victim-dir'));
    fs.renameSync(path.join(d, 'victim'), path.join(d, 'victim.old'));
    fs.symlinkSync(path.join(outside, 'secret'), path.join(d, 'victim'));

    const f = await vfile.lopen(L_O_RDWR);
    expect((await f.read(0, 100)).toString()).toBe('original');
    await f.write(0, Buffer.from('OVERWRITE'));
    await vfile2.setattr({ size: 3, mode: 0o600 });
    expect(fs.readFileSync(path.join(d, 'victim.old'), 'utf8')).toBe('OVE');
    const g = await (await vdir.clone()).lcreate('dropped', L_O_CREAT | L_O_WRONLY, 0o644);
    await g.write(0, Buffer.from('x'));
    await g.clunk();
    expect(fs.existsSync(path.join(d, 'victim-dir.old', 'dropped'))).toBe(true);
    await vdir.mkdir('made');
    expect(fs.existsSync(path.join(d, 'victim-dir.old', 'made'))).toBe(true);
    // Names under the pinned directory are the old directory's, not outside's.
    const s = await vdir.walk('secret');
    expect((await (await s.lopen(L_O_RDONLY)).read(0, 100)).toString()).toBe('decoy');
    await vdir.unlinkat('secret');
    expect(fs.existsSync(path.join(d, 'victim-dir.old', 'secret'))).toBe(false);
    expect(await code(vdir.unlinkat('dir', 0x200))).toBe('ENOENT');
    expect(await code(vdir.walk('dir'))).toBe('ENOENT');
    // A fresh walk sees the symlink, and stops there.
    const fresh = await root.walk('victim-dir');
    expect(fresh.qid.type & QTSYMLINK).toBe(QTSYMLINK);
    expect(await code(fresh.walk('secret'))).toBe('ENOTDIR');
    // Renaming through the stale fid moves the file it holds, within the root.
    await vfile2.rename(root, 'victim.moved').catch(() => {});
    expect(fs.existsSync(path.join(outside, 'victim.moved'))).toBe(false);
    await Promise.all([f.clunk(), vfile2.clunk(), vdir.clunk(), s.clunk(), fresh.clunk()]);
  });

  test('rename of a directory into itself is EINVAL; renaming or removing the root is EBUSY', async () => {
    const sub = await root.walk('sub');
    const deeper = await root.walk(['sub', 'deeper']);
    expect(await code(root.renameat('sub', sub, 'loop'))).toBe('EINVAL');
    expect(await code(root.renameat('sub', deeper, 'loop'))).toBe('EINVAL');
    expect(await code(sub.rename(deeper, 'loop'))).toBe('EINVAL');
    const r2 = await root.clone();
    expect(await code(r2.rename(sub, 'root-moved'))).toBe('EBUSY');
    const r3 = await root.clone();
    expect(await code(r3.remove())).toBe('EBUSY');
    expect(fs.existsSync(svc.dir)).toBe(true);
    await Promise.all([sub.clunk(), deeper.clunk(), r2.clunk()]);
  });

  test('a directory renamed after the walk: ".." follows the real parent but still stops at the root', async () => {
    fs.mkdirSync(path.join(svc.dir, 'a', 'b'), { recursive: true });
    const b = await root.walk(['a', 'b']);
    fs.renameSync(path.join(svc.dir, 'a', 'b'), path.join(svc.dir, 'b-moved'));
    const up = await b.walk(['..']);
    expect(up.qid.path).toBe(root.qid.path);
    const upup = await b.walk(['..', '..', '..']);
    expect(upup.qid.path).toBe(root.qid.path);
    await Promise.all([b.clunk(), up.clunk(), upup.clunk()]);
  });
});

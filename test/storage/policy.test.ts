/**
 * The storage service's policies, each on its own service process: permission bits under the
 * "map" uid policy (and ownership of what users create), read-only exports, and POSIX byte-range
 * locks between two sessions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, type Fid } from '@prose/client';
import {
  AT_REMOVEDIR, L_O_CREAT, L_O_RDONLY, L_O_RDWR, L_O_WRONLY, LOCK_BLOCKED, LOCK_SUCCESS, LOCK_TYPE_RDLCK,
  LOCK_TYPE_UNLCK, LOCK_TYPE_WRLCK, S_IFIFO,
} from '@prose/protocol';
import { lgetxattr, llistxattr, lsetxattr } from '@prose/posix';
import { code } from './suite.js';
import { fingerprint, startStorage, type Storage } from './helpers.js';

jest.setTimeout(30000);

describe('uid policy "map": permission bits honoured for the mapped user', () => {
  let svc: Storage;
  const clients: Client[] = [];

  async function as(uname: string, nUname?: number): Promise<Fid> {
    const c = await Client.connect(svc.addr);
    clients.push(c);
    return c.attach({ uname, nUname });
  }

  beforeAll(async () => {
    svc = await startStorage(['--uid-policy', 'map', '--uid-map', 'alice=1000:1000', '--uid-map', 'bob=1001:1001', '--uid-map', '#2000=2000:2000:1000', '--uid-map', 'root=0:0']);
    const d = svc.dir;
    fs.chmodSync(d, 0o755);
    fs.writeFileSync(path.join(d, 'private'), 'secret', { mode: 0o600 });
    fs.writeFileSync(path.join(d, 'shared'), 'public', { mode: 0o644 });
    fs.writeFileSync(path.join(d, 'group'), 'team', { mode: 0o640 });
    fs.chownSync(path.join(d, 'group'), 0, 1000);
    fs.mkdirSync(path.join(d, 'alicedir'), { mode: 0o700 });
    fs.chownSync(path.join(d, 'alicedir'), 1000, 1000);
    fs.mkdirSync(path.join(d, 'tmp'));
    fs.chmodSync(path.join(d, 'tmp'), 0o1777);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await svc?.stop();
  });

  test('an unmapped user cannot attach', async () => {
    await expect(as('mallory')).rejects.toMatchObject({ code: 'EACCES' });
  });

  test('read and write follow the owner/group/other bits', async () => {
    const alice = await as('alice');
    expect(await code(alice.walk('private').then((f) => f.lopen(L_O_RDONLY)))).toBe('EACCES');
    const shared = await (await alice.walk('shared')).lopen(L_O_RDONLY);
    expect((await shared.read(0, 100)).toString()).toBe('public');
    expect(await code(alice.walk('shared').then((f) => f.lopen(L_O_WRONLY)))).toBe('EACCES');
    expect(await code(alice.walk('shared').then((f) => f.setattr({ size: 0 })))).toBe('EACCES');
    // n_uname 2000 maps to uid 2000 with group 1000 among its groups: the group bits apply.
    const g = await as('anyone', 2000);
    const gf = await (await g.walk('group')).lopen(L_O_RDONLY);
    expect((await gf.read(0, 100)).toString()).toBe('team');
    const bob = await as('bob');
    expect(await code(bob.walk('group').then((f) => f.lopen(L_O_RDONLY)))).toBe('EACCES');
    const root = await as('root');
    expect((await (await root.walk('private')).lopen(L_O_RDONLY).then((f) => f.read(0, 100))).toString()).toBe('secret');
    expect(fs.readFileSync(path.join(svc.dir, 'shared'), 'utf8')).toBe('public');
  });

  test('creating needs write on the directory; new files belong to the mapped user', async () => {
    const alice = await as('alice');
    expect(await code((await alice.clone()).lcreate('nope', L_O_CREAT | L_O_WRONLY, 0o644))).toBe('EACCES');
    expect(await code(alice.mkdir('nope'))).toBe('EACCES');
    expect(fs.existsSync(path.join(svc.dir, 'nope'))).toBe(false);
    const ad = await alice.walk('alicedir');
    const f = await (await ad.clone()).lcreate('mine', L_O_CREAT | L_O_RDWR, 0o640);
    await f.write(0, Buffer.from('alice was here'));
    await ad.mkdir('sub', 0o750);
    await ad.symlink('ln', 'mine');
    await ad.mknod('fifo', S_IFIFO | 0o600);
    for (const n of ['mine', 'sub', 'ln', 'fifo']) {
      const st = fs.lstatSync(path.join(svc.dir, 'alicedir', n));
      expect([n, st.uid, st.gid]).toEqual([n, 1000, 1000]);
    }
    expect(fs.statSync(path.join(svc.dir, 'alicedir', 'mine')).mode & 0o777).toBe(0o640);
    // bob may not even search alice's 0700 directory.
    const bob = await as('bob');
    expect(await code(bob.walk(['alicedir', 'mine']))).toBe('ENOENT'); // a partial walk: Rwalk stops at the refused name
    expect(await code(bob.walk('alicedir').then((d) => d.walk('mine')))).toBe('EACCES');
  });

  test('only the owner chmods and sets times; only root chowns', async () => {
    const alice = await as('alice');
    const mine = await alice.walk(['alicedir', 'mine']);
    await mine.setattr({ mode: 0o600 });
    expect(fs.statSync(path.join(svc.dir, 'alicedir', 'mine')).mode & 0o777).toBe(0o600);
    expect(await code(mine.setattr({ uid: 1001 }))).toBe('EPERM');
    expect(await code(mine.setattr({ gid: 1001 }))).toBe('EPERM');
    expect(await code(mine.setattr({ mtime: { sec: 1000 } }))).toBe('ok');
    const sh = await alice.walk('shared');
    expect(await code(sh.setattr({ mode: 0o666 }))).toBe('EPERM');
    expect(await code(sh.setattr({ mtime: { sec: 1000 } }))).toBe('EPERM');
    expect(fs.statSync(path.join(svc.dir, 'shared')).mode & 0o777).toBe(0o644);
    const root = await as('root');
    const rmine = await root.walk(['alicedir', 'mine']);
    await rmine.setattr({ uid: 1001, gid: 1001 });
    const st = fs.statSync(path.join(svc.dir, 'alicedir', 'mine'));
    expect([st.uid, st.gid]).toEqual([1001, 1001]);
  });

  test('xattrs: user.* follows the read/write bits; trusted.* is root\'s only and hidden from others', async () => {
    const d = svc.dir;
    lsetxattr(path.join(d, 'private'), 'user.p', 'private value');
    lsetxattr(path.join(d, 'shared'), 'user.s', 'shared value');
    lsetxattr(path.join(d, 'shared'), 'trusted.t', 'for root');
    const alice = await as('alice');
    const root = await as('root');
    const [ap, as_, rs] = await Promise.all([alice.walk('private'), alice.walk('shared'), root.walk('shared')]);
    const r = {
      readPrivate: await code(ap.getxattr('user.p')),
      readShared: (await as_.getxattr('user.s')).toString(),
      writeShared: await code(as_.setxattr('user.n', 'x')),
      trustedGet: await code(as_.getxattr('trusted.t')),
      trustedListed: (await as_.listxattr()).includes('trusted.t'),
      trustedSet: await code(as_.setxattr('trusted.u', 'x')),
      rootTrusted: (await rs.getxattr('trusted.t')).toString(),
      rootListed: (await rs.listxattr()).includes('trusted.t'),
    };
    const mine = await alice.walk('alicedir');
    const own = await code(mine.setxattr('user.mine', 'alice'));
    expect({ ...r, own }).toEqual({
      readPrivate: 'EACCES', readShared: 'shared value', writeShared: 'EACCES', trustedGet: 'ENODATA', trustedListed: false,
      trustedSet: 'EPERM', rootTrusted: 'for root', rootListed: true, own: 'ok',
    });
    expect(llistxattr(path.join(d, 'shared')).filter((n) => n.startsWith('user.'))).toEqual(['user.s']);
  });

  test('a sticky directory: only the owner removes or renames their file', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const at = await alice.walk('tmp');
    await (await at.clone()).lcreate('alices', L_O_CREAT | L_O_WRONLY, 0o666).then((f) => f.clunk());
    const bt = await bob.walk('tmp');
    expect(await code(bt.unlinkat('alices'))).toBe('EPERM');
    expect(await code(bt.renameat('alices', bt, 'bobs'))).toBe('EPERM');
    expect(fs.existsSync(path.join(svc.dir, 'tmp', 'alices'))).toBe(true);
    expect(await code(at.unlinkat('alices'))).toBe('ok');
    expect(await code(bob.unlinkat('shared'))).toBe('EACCES');
  });
});

describe('read-only export', () => {
  let svc: Storage;
  let c: Client;
  let root: Fid;

  beforeAll(async () => {
    svc = await startStorage(['--read-only']);
    fs.writeFileSync(path.join(svc.dir, 'f'), 'data');
    lsetxattr(path.join(svc.dir, 'f'), 'user.k', 'v');
    fs.mkdirSync(path.join(svc.dir, 'd'));
    c = await Client.connect(svc.addr);
    root = await c.attach({});
  });
  afterAll(async () => {
    c?.close();
    await svc?.stop();
  });

  test('reads work; every change is EROFS and the host is untouched', async () => {
    const before = fingerprint(svc.dir);
    expect((await c.readFile('f')).toString()).toBe('data');
    expect((await c.list('')).map((e) => e.name).sort()).toEqual(['d', 'f']);
    const f = await root.walk('f');
    expect((await f.getxattr('user.k')).toString()).toBe('v');
    expect(await f.listxattr()).toContain('user.k');
    const r = {
      setxattr: await code(f.setxattr('user.n', 'x')),
      replacexattr: await code(f.setxattr('user.k', 'x')),
      removexattr: await code(f.setxattr('user.k', Buffer.alloc(0))),
      lcreate: await code((await root.clone()).lcreate('n', L_O_CREAT | L_O_WRONLY, 0o644)),
      openW: await code((await root.walk('f')).lopen(L_O_WRONLY)),
      openRW: await code((await root.walk('f')).lopen(L_O_RDWR)),
      mkdir: await code(root.mkdir('x')),
      symlink: await code(root.symlink('s', 'f')),
      mknod: await code(root.mknod('p', S_IFIFO | 0o600)),
      link: await code(root.link(f, 'h')),
      renameat: await code(root.renameat('f', root, 'g')),
      unlinkat: await code(root.unlinkat('f')),
      rmdir: await code(root.unlinkat('d', AT_REMOVEDIR)),
      chmod: await code(f.setattr({ mode: 0o777 })),
      truncate: await code(f.setattr({ size: 0 })),
      utimes: await code(f.setattr({ mtime: 'now' })),
      remove: await code((await root.walk('f')).remove()),
    };
    expect(r).toEqual({
      setxattr: 'EROFS', replacexattr: 'EROFS', removexattr: 'EROFS', lcreate: 'EROFS', openW: 'EROFS', openRW: 'EROFS', mkdir: 'EROFS', symlink: 'EROFS', mknod: 'EROFS', link: 'EROFS',
      renameat: 'EROFS', unlinkat: 'EROFS', rmdir: 'EROFS', chmod: 'EROFS', truncate: 'EROFS', utimes: 'EROFS', remove: 'EROFS',
    });
    expect(fingerprint(svc.dir)).toEqual(before);
    expect(llistxattr(path.join(svc.dir, 'f')).filter((n) => n.startsWith('user.'))).toEqual(['user.k']);
    expect(lgetxattr(path.join(svc.dir, 'f'), 'user.k').toString()).toBe('v');
  });
});

describe('POSIX byte-range locks between two sessions', () => {
  let svc: Storage;
  let a: Client;
  let b: Client;

  beforeAll(async () => {
    svc = await startStorage();
    fs.writeFileSync(path.join(svc.dir, 'db'), Buffer.alloc(1000));
    [a, b] = await Promise.all([Client.connect(svc.addr), Client.connect(svc.addr)]);
    await Promise.all([a.attach({}), b.attach({})]);
  });
  afterAll(async () => {
    a?.close();
    b?.close();
    await svc?.stop();
  });

  const open = (c: Client) => c.root!.walk('db').then((f) => f.lopen(L_O_RDWR));

  test('conflicts, split ranges, getlock, release on clunk and at session end', async () => {
    const fa = await open(a);
    const fb = await open(b);
    const lk = (f: Fid, lockType: number, start: number, length: number) => f.lock({ lockType, start, length, procId: 7, clientId: 'same-host' });
    // The same procId and clientId on two sessions are two owners.
    expect(await lk(fa, LOCK_TYPE_WRLCK, 0, 100)).toBe(LOCK_SUCCESS);
    expect(await lk(fb, LOCK_TYPE_WRLCK, 50, 10)).toBe(LOCK_BLOCKED);
    expect(await lk(fb, LOCK_TYPE_RDLCK, 99, 1)).toBe(LOCK_BLOCKED);
    expect(await lk(fb, LOCK_TYPE_WRLCK, 100, 100)).toBe(LOCK_SUCCESS);
    // Unlocking the first half of a's range splits it: b may take [0,49], not [50,99].
    expect(await lk(fa, LOCK_TYPE_UNLCK, 0, 50)).toBe(LOCK_SUCCESS);
    expect(await lk(fb, LOCK_TYPE_WRLCK, 0, 50)).toBe(LOCK_SUCCESS);
    expect(await lk(fb, LOCK_TYPE_WRLCK, 50, 1)).toBe(LOCK_BLOCKED);
    const held = await fb.getlock({ lockType: LOCK_TYPE_WRLCK, start: 60, length: 10, procId: 7, clientId: 'same-host' });
    expect(held).toEqual({ lockType: LOCK_TYPE_WRLCK, start: 50, length: 50, procId: 7, clientId: 'same-host' });
    // a's lock to end of file (length 0) blocks b everywhere past it.
    expect(await lk(fa, LOCK_TYPE_RDLCK, 500, 0)).toBe(LOCK_SUCCESS);
    expect(await lk(fb, LOCK_TYPE_RDLCK, 10_000_000, 1)).toBe(LOCK_SUCCESS);
    expect(await lk(fb, LOCK_TYPE_WRLCK, 10_000_000, 1)).toBe(LOCK_BLOCKED);
    // One owner's locks through two fids of the file are one set: a second fid of a does not conflict.
    const fa2 = await open(a);
    expect(await lk(fa2, LOCK_TYPE_WRLCK, 60, 5)).toBe(LOCK_SUCCESS);
    await fa2.clunk();
    // Closing a fid releases all of its owner's locks on the file (close(2) semantics).
    expect(await lk(fb, LOCK_TYPE_WRLCK, 50, 50)).toBe(LOCK_SUCCESS);
    expect(await lk(fb, LOCK_TYPE_WRLCK, 500, 10)).toBe(LOCK_SUCCESS);
    // The end of b's session releases b's locks.
    expect(await lk(fa, LOCK_TYPE_WRLCK, 0, 0)).toBe(LOCK_BLOCKED);
    b.close();
    await b.whenClosed();
    for (let i = 0; i < 50 && (await lk(fa, LOCK_TYPE_WRLCK, 0, 0)) !== LOCK_SUCCESS; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await lk(fa, LOCK_TYPE_WRLCK, 0, 0)).toBe(LOCK_SUCCESS);
    // Locks need the right open mode.
    const ro = await a.root!.walk('db').then((f) => f.lopen(L_O_RDONLY));
    expect(await code(ro.lock({ lockType: LOCK_TYPE_WRLCK, procId: 9 }))).toBe('EBADF');
    await ro.clunk();
  });
});

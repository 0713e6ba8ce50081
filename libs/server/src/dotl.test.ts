import {
  AT_REMOVEDIR, DMDIR, L_O_RDWR, L_O_TRUNC, L_O_WRONLY, LOCK_BLOCKED, formatFcall, type Qid,
} from '@prose/protocol';
import type { Fid } from './fid.js';
import type { Srv } from './srv.js';
import { RawFs } from './test-rawfs.js';
import { Wire, startPair } from './test-wire.js';

async function begin(fs: Srv<any>): Promise<Wire> {
  const { wire } = startPair(fs);
  await wire.version('9P2000.L');
  await wire.attach(0);
  return wire;
}

const Q = (path: number, dir = false): Qid => ({ type: dir ? 0x80 : 0, version: 0, path: BigInt(path) });

describe('9P2000.L callbacks get the checked fids and the message fields', () => {
  const calls: string[] = [];
  const name = (f: Fid<string>) => `${f.fid}:${f.aux}`;
  const srv: Srv<string> = {
    attach: (f) => ((f.aux = '/'), Q(0, true)),
    walk1: (f, n) => ((f.aux = n), Q(n.length, n.startsWith('d'))),
    statfs: (f) => (calls.push(`statfs ${name(f)}`), { fsType: 1, bsize: 2, blocks: 3, bfree: 4, bavail: 5, files: 6, ffree: 7, fsid: 8n, namelen: 9 }),
    lopen: (f, flags) => void calls.push(`lopen ${name(f)} ${flags.toString(8)}`),
    lcreate: (f, n, flags, mode, gid) => (calls.push(`lcreate ${name(f)} ${n} ${flags.toString(8)} ${mode.toString(8)} ${gid}`), (f.aux = n), Q(50)),
    symlink: (d, n, target, gid) => (calls.push(`symlink ${name(d)} ${n} ${target} ${gid}`), Q(51)),
    mknod: (d, n, mode, major, minor, gid) => (calls.push(`mknod ${name(d)} ${n} ${mode.toString(8)} ${major} ${minor} ${gid}`), Q(52)),
    rename: (f, d, n) => void calls.push(`rename ${name(f)} ${name(d)} ${n}`),
    readlink: (f) => (calls.push(`readlink ${name(f)}`), 'target'),
    getattr: (f, mask) => (calls.push(`getattr ${name(f)} ${mask.toString(16)}`), {
      valid: 0x7ff, qid: f.qid, mode: 0o100600, uid: 7, gid: 8, nlink: 1, rdev: 0, size: 42, blksize: 4096, blocks: 1,
      atimeSec: 1, atimeNsec: 2, mtimeSec: 3, mtimeNsec: 4, ctimeSec: 5, ctimeNsec: 6, btimeSec: 0, btimeNsec: 0, gen: 0, dataVersion: 9,
    }),
    setattr: (f, a) => void calls.push(`setattr ${name(f)} ${a.valid.toString(16)} ${a.size}`),
    xattrwalk: (f, nf, n) => (calls.push(`xattrwalk ${name(f)} ${nf.fid} ${n}`), 5),
    xattrcreate: (f, n, size, flags) => void calls.push(`xattrcreate ${name(f)} ${n} ${size} ${flags}`),
    fsync: (f, ds) => void calls.push(`fsync ${name(f)} ${ds}`),
    lock: (f, flags, l) => (calls.push(`lock ${name(f)} ${flags} ${l.lockType} ${l.start} ${l.length} ${l.procId} ${l.clientId}`), LOCK_BLOCKED),
    getlock: (f, l) => (calls.push(`getlock ${name(f)} ${l.procId}`), { ...l, lockType: 1, procId: 77 }),
    link: (d, f, n) => void calls.push(`link ${name(d)} ${name(f)} ${n}`),
    mkdir: (d, n, mode, gid) => (calls.push(`mkdir ${name(d)} ${n} ${mode.toString(8)} ${gid}`), Q(53, true)),
    renameat: (od, on, nd, nn) => void calls.push(`renameat ${name(od)} ${on} ${name(nd)} ${nn}`),
    unlinkat: (d, n, flags) => void calls.push(`unlinkat ${name(d)} ${n} ${flags.toString(16)}`),
    readdir: () => [],
  };

  test('each .L request reaches its callback', async () => {
    const wire = await begin(srv);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [file]');
    await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [dir]');
    const r = (t: string) => wire.rpcText(t);
    expect(await r('Tstatfs tag 2 fid 0')).toBe('Rstatfs tag 2 fsType 0x1 bsize 2 blocks 3 bfree 4 bavail 5 files 6 ffree 7 fsid 8 namelen 9');
    expect(await r('Tgetattr tag 2 fid 1 requestMask 0x7ff')).toBe(
      'Rgetattr tag 2 valid 0x7ff qid (0000000000000004 0) mode 0100600 uid 7 gid 8 nlink 1 rdev 0 size 42 blksize 4096 blocks 1 atimeSec 1 atimeNsec 2 mtimeSec 3 mtimeNsec 4 ctimeSec 5 ctimeNsec 6 btimeSec 0 btimeNsec 0 gen 0 dataVersion 9',
    );
    expect(await r('Tsetattr tag 2 fid 1 valid 0x8 mode 0 uid 0 gid 0 size 5 atimeSec 0 atimeNsec 0 mtimeSec 0 mtimeNsec 0')).toBe('Rsetattr tag 2');
    expect(await r('Treadlink tag 2 fid 1')).toBe('Rreadlink tag 2 target target');
    expect(await r('Tsymlink tag 2 fid 2 name s symtgt /t gid 5')).toBe('Rsymlink tag 2 qid (0000000000000033 0)');
    expect(await r('Tsymlink tag 2 fid 1 name s symtgt /t gid 5')).toBe('Rlerror tag 2 ecode 20');
    expect(await r('Tmknod tag 2 dfid 2 name m mode 020644 major 1 minor 3 gid 5')).toBe('Rmknod tag 2 qid (0000000000000034 0)');
    expect(await r('Tmkdir tag 2 dfid 2 name d2 mode 0755 gid 5')).toBe('Rmkdir tag 2 qid (0000000000000035 0 d)');
    expect(await r('Tmkdir tag 2 dfid 2 name .. mode 0755 gid 5')).toBe('Rlerror tag 2 ecode 22');
    expect(await r('Tlink tag 2 dfid 2 fid 1 name l')).toBe('Rlink tag 2');
    expect(await r('Trename tag 2 fid 1 dfid 2 name r')).toBe('Rrename tag 2');
    expect(await r('Trenameat tag 2 olddirfid 2 oldname a newdirfid 0 newname b')).toBe('Rrenameat tag 2');
    expect(await r('Tunlinkat tag 2 dirfd 2 name u flags 0x200')).toBe('Runlinkat tag 2');
    expect(await r('Tfsync tag 2 fid 1 datasync 1')).toBe('Rfsync tag 2');
    expect(await r('Tlock tag 2 fid 1 lockType 1 flags 1 start 10 length 20 procId 30 clientId me')).toBe('Rlock tag 2 status 1');
    expect(await r('Tgetlock tag 2 fid 1 lockType 1 start 0 length 0 procId 30 clientId me')).toBe('Rgetlock tag 2 lockType 1 start 0 length 0 procId 77 clientId me');
    expect(await r('Txattrwalk tag 2 fid 1 newfid 9 name user.a')).toBe('Rxattrwalk tag 2 size 5');
    expect(await r('Tread tag 2 fid 9 offset 0 count 5')).toMatch(/^Rlerror tag 2 ecode 13$/);
    expect(await r('Txattrcreate tag 2 fid 1 name user.b attrSize 3 flags 0')).toBe('Rxattrcreate tag 2');
    expect(await r('Txattrcreate tag 2 fid 1 name user.b attrSize 3 flags 0')).toBe('Rlerror tag 2 ecode 9');
    await wire.rpc('Twalk tag 1 fid 0 newfid 3 wname [dir]');
    expect(await r(`Tlcreate tag 2 fid 3 name c flags 0${(L_O_RDWR | 0o100).toString(8)} mode 0640 gid 5`)).toBe('Rlcreate tag 2 qid (0000000000000032 0) iounit 8168');
    await wire.rpc('Twalk tag 1 fid 0 newfid 4 wname [file]');
    expect(await r('Tlopen tag 2 fid 4 flags 01')).toBe('Rlopen tag 2 qid (0000000000000004 0) iounit 8168');
    expect(calls).toEqual([
      'statfs 0:/', 'getattr 1:file 7ff', 'setattr 1:file 8 5', 'readlink 1:file', 'symlink 2:dir s /t 5',
      'mknod 2:dir m 20644 1 3 5', 'mkdir 2:dir d2 755 5', 'link 2:dir 1:file l', 'rename 1:file 2:dir r',
      'renameat 2:dir a 0:/ b', 'unlinkat 2:dir u 200', 'fsync 1:file 1', 'lock 1:file 1 1 10 20 30 me',
      'getlock 1:file 30', 'xattrwalk 1:file 9 user.a', 'xattrcreate 1:file user.b 3 0', 'lcreate 3:dir c 102 640 5',
      'lopen 4:file 1',
    ]);
  });
});

describe('9P2000.L mapped onto the generic callbacks', () => {
  test('Tlopen becomes open with the Plan 9 mode (O_TRUNC → OTRUNC); getattr comes from stat', async () => {
    const fs = new RawFs({ '/f': 'abc' });
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    expect(await wire.rpcText(`Tlopen tag 2 fid 1 flags 0${(L_O_WRONLY | L_O_TRUNC).toString(8)}`)).toBe('Rlopen tag 2 qid (0000000000000001 0) iounit 8168');
    expect(fs.log).toContain('open 1 /f 21');
    expect(await wire.rpcText('Tgetattr tag 3 fid 1 requestMask 0x3fff')).toBe(
      'Rgetattr tag 3 valid 0x7ff qid (0000000000000001 0) mode 0100666 uid 0 gid 0 nlink 1 rdev 0 size 0 blksize 4096 blocks 0 atimeSec 0 atimeNsec 0 mtimeSec 0 mtimeNsec 0 ctimeSec 0 ctimeNsec 0 btimeSec 0 btimeNsec 0 gen 0 dataVersion 0',
    );
    expect(await wire.rpcText('Twrite tag 4 fid 1 offset 0 data "xy"')).toBe('Rwrite tag 4 count 2');
    expect(await wire.rpcText('Tread tag 5 fid 1 offset 0 count 2')).toBe('Rlerror tag 5 ecode 9');
  });

  test('Tsetattr becomes one wstat of mode (keeping the type bits), length and times; chown is EPERM', async () => {
    const fs = new RawFs({ '/f': 'abcdef' });
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    expect(await wire.rpcText('Tsetattr tag 2 fid 1 valid 0x129 mode 04640 uid 0 gid 0 size 2 atimeSec 0 atimeNsec 0 mtimeSec 777 mtimeNsec 0')).toBe('Rsetattr tag 2');
    expect(fs.log).toContain('wstat 1 /f length 2 mode 2000640 mtime 777');
    expect(await wire.rpcText('Tsetattr tag 3 fid 1 valid 0x4 mode 0 uid 0 gid 5 size 0 atimeSec 0 atimeNsec 0 mtimeSec 0 mtimeNsec 0')).toBe('Rlerror tag 3 ecode 1');
    fs.log.length = 0;
    expect(await wire.rpcText('Tsetattr tag 4 fid 1 valid 0x40 mode 0 uid 0 gid 0 size 0 atimeSec 0 atimeNsec 0 mtimeSec 0 mtimeNsec 0')).toBe('Rsetattr tag 4');
    expect(fs.log.filter((l) => l.startsWith('wstat'))).toEqual([]);
  });

  test('Tmkdir creates through a scratch clone of the directory, which stays as it was', async () => {
    const fs = new RawFs({ '/d': null });
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [d]');
    expect(await wire.rpcText('Tmkdir tag 2 dfid 1 name sub mode 0700 gid 0')).toBe('Rmkdir tag 2 qid (0000000000000002 0 d)');
    expect(fs.log).toContain(`create 1 /d sub ${((DMDIR | 0o700) >>> 0).toString(8)} 0`);
    expect(fs.log).toContain('destroy 1 /d/sub');
    expect(await wire.rpcText('Tgetattr tag 3 fid 1 requestMask 0x3fff')).toMatch(/qid \(0000000000000001 0 d\) mode 040777 /);
  });

  test('Tunlinkat walks to the name, checks AT_REMOVEDIR against its kind, then removes', async () => {
    const fs = new RawFs({ '/d': null, '/d/e': null, '/f': 'x' });
    const wire = await begin(fs);
    expect(await wire.rpcText('Tunlinkat tag 1 dirfd 0 name d flags 0')).toBe('Rlerror tag 1 ecode 21');
    expect(await wire.rpcText(`Tunlinkat tag 2 dirfd 0 name d flags 0x${AT_REMOVEDIR.toString(16)}`)).toBe('Rlerror tag 2 ecode 39');
    expect(await wire.rpcText('Tunlinkat tag 3 dirfd 0 name f flags 0x200')).toBe('Rlerror tag 3 ecode 20');
    expect(await wire.rpcText('Tunlinkat tag 4 dirfd 0 name f flags 0')).toBe('Runlinkat tag 4');
    expect(await wire.rpcText('Tunlinkat tag 5 dirfd 0 name f flags 0')).toBe('Rlerror tag 5 ecode 2');
    expect(fs.files.has('/f')).toBe(false);
  });

  test('Trenameat and Trename rename within a directory by wstat, and answer EXDEV across directories', async () => {
    const fs = new RawFs({ '/d': null, '/d/a': 'x', '/e': null });
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [d]');
    await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [e]');
    expect(await wire.rpcText('Trenameat tag 2 olddirfid 1 oldname a newdirfid 1 newname b')).toBe('Rrenameat tag 2');
    expect(fs.files.has('/d/b')).toBe(true);
    expect(await wire.rpcText('Trenameat tag 3 olddirfid 1 oldname b newdirfid 2 newname b')).toBe('Rlerror tag 3 ecode 18');
    await wire.rpc('Twalk tag 1 fid 0 newfid 3 wname [d b]');
    expect(await wire.rpcText('Trename tag 4 fid 3 dfid 1 name c')).toBe('Rrename tag 4');
    expect(fs.files.has('/d/c')).toBe(true);
    expect(await wire.rpcText('Trename tag 5 fid 3 dfid 2 name c')).toBe('Rlerror tag 5 ecode 18');
  });

  test('absent .L callbacks without a mapping answer EOPNOTSUPP; the defaults of statfs, fsync and locks answer', async () => {
    const wire = await begin(new RawFs({ '/f': 'x' }));
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    for (const t of [
      'Treadlink tag 2 fid 1', 'Tsymlink tag 2 fid 0 name s symtgt t gid 0', 'Tlink tag 2 dfid 0 fid 1 name l',
      'Tmknod tag 2 dfid 0 name m mode 0644 major 0 minor 0 gid 0', 'Txattrwalk tag 2 fid 1 newfid 2 name x',
      'Txattrcreate tag 2 fid 1 name x attrSize 0 flags 0',
    ]) {
      expect(await wire.rpcText(t)).toBe('Rlerror tag 2 ecode 95');
    }
    expect(formatFcall(await wire.rpc('Tstatfs tag 3 fid 0'))).toBe('Rstatfs tag 3 fsType 0x1021997 bsize 4096 blocks 0 bfree 0 bavail 0 files 0 ffree 0 fsid 0 namelen 255');
    expect(await wire.rpcText('Tfsync tag 4 fid 1 datasync 0')).toBe('Rfsync tag 4');
  });
});

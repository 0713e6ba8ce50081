/**
 * The example ramfs (test-ramfs.ts): a few lines on the framework, a complete file system in
 * every dialect.
 */
import { MsgType, formatFcall, unpackDirents, unpackDirs, type Fcall } from '@prose/protocol';
import { ramfs } from './test-ramfs.js';
import { Wire, like, startPair } from './test-wire.js';

function data(f: Fcall): Buffer {
  if (f.type !== MsgType.Rread && f.type !== MsgType.Rreaddir) throw new Error(formatFcall(f));
  return f.data;
}

async function begin(version: string): Promise<Wire> {
  const { wire } = startPair(ramfs().tree);
  await wire.version(version);
  expect(await wire.attach(0)).toBe('Rattach tag 1 qid (0000000000000000 0 d)');
  return wire;
}

describe('ramfs, the example server', () => {
  test.each(['9P2000', '9P2000.u'] as const)('%s: create, write, read, list, rename, truncate, remove', async (dialect) => {
    const w = await begin(dialect);
    await w.rpc('Twalk tag 1 fid 0 newfid 1 wname []');
    expect(like('Rcreate tag 2 qid (0000000000000001 0 d) iounit 8168', await w.rpcText('Tcreate tag 2 fid 1 name docs perm 020000000755 mode 0'))).toBe('Rcreate tag 2 qid (0000000000000001 0 d) iounit 8168');
    await w.rpc('Twalk tag 3 fid 0 newfid 2 wname [docs]');
    expect(await w.rpcText('Tcreate tag 4 fid 2 name note perm 0644 mode 2')).toBe('Rcreate tag 4 qid (0000000000000002 0) iounit 8168');
    expect(await w.rpcText('Twrite tag 5 fid 2 offset 0 data "a ramfs in a few lines\\n"')).toBe('Rwrite tag 5 count 23');
    expect(await w.rpcText('Tread tag 6 fid 2 offset 2 count 5')).toBe('Rread tag 6 data "ramfs"');
    await w.rpc('Topen tag 7 fid 1 mode 0');
    expect(await w.rpcText('Tread tag 8 fid 1 offset 0 count 8168')).toMatch(/^Rread tag 8 /);
    await w.rpc('Twalk tag 9 fid 0 newfid 3 wname [docs]');
    await w.rpc('Topen tag 9 fid 3 mode 0');
    expect(unpackDirs(data(await w.rpc('Tread tag 10 fid 3 offset 0 count 8168')), dialect).map((d) => [d.name, d.length])).toEqual([['note', 23]]);
    expect(await w.rpcText('Twstat tag 11 fid 2 stat {name memo length 7}')).toBe('Rwstat tag 11');
    expect(await w.rpcText('Tread tag 12 fid 2 offset 0 count 100')).toBe('Rread tag 12 data "a ramfs"');
    expect(await w.rpcText('Tstat tag 13 fid 2')).toMatch(/^Rstat tag 13 stat \{type 0 dev 0 qid \(0000000000000002 2\) mode 0644 atime \d+ mtime \d+ length 7 name memo uid glenda gid glenda muid glenda/);
    await w.rpc('Twalk tag 14 fid 0 newfid 4 wname [docs]');
    expect(await w.rpcText('Tremove tag 15 fid 4')).toMatch(/^Rerror tag 15 ename "directory not empty"/);
    expect(await w.rpcText('Tremove tag 16 fid 2')).toBe('Rremove tag 16');
    await w.rpc('Twalk tag 17 fid 0 newfid 4 wname [docs]');
    expect(await w.rpcText('Tremove tag 18 fid 4')).toBe('Rremove tag 18');
    expect(await w.rpcText('Twalk tag 19 fid 0 newfid 5 wname [docs]')).toMatch(/^Rerror tag 19 ename "file not found"/);
  });

  test('9P2000.L: mkdir, lcreate, write, getattr, setattr, readdir, renameat, unlinkat', async () => {
    const w = await begin('9P2000.L');
    expect(await w.rpcText('Tmkdir tag 1 dfid 0 name src mode 0755 gid 0')).toBe('Rmkdir tag 1 qid (0000000000000001 0 d)');
    await w.rpc('Twalk tag 2 fid 0 newfid 1 wname [src]');
    expect(await w.rpcText('Tlcreate tag 3 fid 1 name main.c flags 02 mode 0644 gid 0')).toBe('Rlcreate tag 3 qid (0000000000000002 0) iounit 8168');
    expect(await w.rpcText('Twrite tag 4 fid 1 offset 0 data "int main;\\n"')).toBe('Rwrite tag 4 count 10');
    expect(await w.rpcText('Tgetattr tag 5 fid 1 requestMask 0x3fff')).toMatch(/ mode 0100644 uid 0 gid 0 nlink 1 rdev 0 size 10 /);
    expect(await w.rpcText('Tsetattr tag 6 fid 1 valid 0x8 mode 0 uid 0 gid 0 size 3 atimeSec 0 atimeNsec 0 mtimeSec 0 mtimeNsec 0')).toBe('Rsetattr tag 6');
    expect(await w.rpcText('Tread tag 7 fid 1 offset 0 count 100')).toBe('Rread tag 7 data "int"');
    await w.rpc('Twalk tag 8 fid 0 newfid 2 wname [src]');
    await w.rpc('Tlopen tag 8 fid 2 flags 0');
    expect(unpackDirents(data(await w.rpc('Treaddir tag 9 fid 2 offset 0 count 8168'))).map((e) => e.name)).toEqual(['main.c']);
    expect(await w.rpcText('Trenameat tag 10 olddirfid 2 oldname main.c newdirfid 0 newname main.c')).toBe('Rrenameat tag 10');
    expect(await w.rpcText('Tunlinkat tag 11 dirfd 0 name src flags 0x200')).toBe('Runlinkat tag 11');
    expect(await w.rpcText('Tunlinkat tag 12 dirfd 0 name main.c flags 0')).toBe('Runlinkat tag 12');
    expect(await w.rpcText('Tread tag 13 fid 1 offset 0 count 100')).toBe('Rread tag 13 data "int"');
  });

  test('offsets past what the ramfs keeps are "file too large", not a crash', async () => {
    const w = await begin('9P2000.u');
    await w.rpc('Twalk tag 1 fid 0 newfid 1 wname []');
    await w.rpc('Tcreate tag 2 fid 1 name f perm 0644 mode 2');
    expect(await w.rpcText('Twrite tag 3 fid 1 offset 9007199254740000 data "x"')).toBe('Rerror tag 3 ename "file too large" errno 27');
    expect(await w.rpcText('Twstat tag 4 fid 1 stat {length 4294967297}')).toBe('Rerror tag 4 ename "file too large" errno 27');
    expect(await w.rpcText('Twrite tag 5 fid 1 offset 0 data "ok"')).toBe('Rwrite tag 5 count 2');
  });
});

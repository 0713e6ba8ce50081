/**
 * Golden vectors: one sample of every message in every dialect it exists in, with its bytes
 * written out field by field from intro(5), the 9P2000.u draft and the 9P2000.L protocol
 * description (diod's protocol.md) — independently of the codec, so the codec is checked
 * against the spec rather than against itself. Shared by the codec and text tests.
 */
import { MsgType } from './constants.js';
import type { Dialect, Dir, Fcall, Qid } from './fcall.js';

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const s = (t: string) => Buffer.concat([u16(Buffer.byteLength(t)), Buffer.from(t)]);
const q = (x: Qid) => Buffer.concat([u8(x.type), u32(x.version), u64(x.path)]);

/** size[4] type[1] tag[2] then the body. */
function frame(type: number, tag: number, ...body: Buffer[]): Buffer {
  const b = Buffer.concat(body);
  return Buffer.concat([u32(7 + b.length), u8(type), u16(tag), b]);
}

const QD: Qid = { type: 0x80, version: 3, path: 0x0102030405060708n };
const QF: Qid = { type: 0, version: 1, path: 42n };

const dir9: Dir = {
  type: 1, dev: 2, qid: QF, mode: 0o644, atime: 1700000000, mtime: 1700000001, length: 5,
  name: 'hello', uid: 'glenda', gid: 'sys', muid: 'glenda',
};
const dirU: Dir = { ...dir9, extension: '', nUid: 1000, nGid: 100, nMuid: 1000 };

function statBytes(d: Dir, dotu: boolean): Buffer {
  const body = Buffer.concat([
    u16(d.type), u32(d.dev), q(d.qid), u32(d.mode), u32(d.atime), u32(d.mtime), u64(d.length),
    s(d.name), s(d.uid), s(d.gid), s(d.muid),
    ...(dotu ? [s(d.extension!), u32(d.nUid!), u32(d.nGid!), u32(d.nMuid!)] : []),
  ]);
  return Buffer.concat([u16(body.length), body]);
}

export interface Vector {
  name: string;
  dialects: Dialect[];
  fcall: Fcall;
  bytes: Buffer;
}

const ALL: Dialect[] = ['9P2000', '9P2000.u', '9P2000.L'];
const P: Dialect[] = ['9P2000'];
const UL: Dialect[] = ['9P2000.u', '9P2000.L'];
const U: Dialect[] = ['9P2000.u'];
const L: Dialect[] = ['9P2000.L'];

const data = Buffer.from('hello');
const sb9 = statBytes(dir9, false);
const sbU = statBytes(dirU, true);

export const VECTORS: Vector[] = [
  { name: 'Tversion', dialects: ALL, fcall: { type: MsgType.Tversion, tag: 0xffff, msize: 8192, version: '9P2000.L' },
    bytes: frame(100, 0xffff, u32(8192), s('9P2000.L')) },
  { name: 'Rversion', dialects: ALL, fcall: { type: MsgType.Rversion, tag: 0xffff, msize: 8192, version: '9P2000' },
    bytes: frame(101, 0xffff, u32(8192), s('9P2000')) },
  { name: 'Tauth', dialects: P, fcall: { type: MsgType.Tauth, tag: 1, afid: 5, uname: 'glenda', aname: '' },
    bytes: frame(102, 1, u32(5), s('glenda'), s('')) },
  { name: 'Tauth.u', dialects: UL, fcall: { type: MsgType.Tauth, tag: 1, afid: 5, uname: 'glenda', aname: '', nUname: 1000 },
    bytes: frame(102, 1, u32(5), s('glenda'), s(''), u32(1000)) },
  { name: 'Rauth', dialects: ALL, fcall: { type: MsgType.Rauth, tag: 1, aqid: { type: 0x08, version: 0, path: 9n } },
    bytes: frame(103, 1, q({ type: 0x08, version: 0, path: 9n })) },
  { name: 'Tattach', dialects: P, fcall: { type: MsgType.Tattach, tag: 2, fid: 0, afid: 0xffffffff, uname: 'glenda', aname: 'main' },
    bytes: frame(104, 2, u32(0), u32(0xffffffff), s('glenda'), s('main')) },
  { name: 'Tattach.L', dialects: UL, fcall: { type: MsgType.Tattach, tag: 2, fid: 0, afid: 0xffffffff, uname: 'glenda', aname: '/srv', nUname: 0 },
    bytes: frame(104, 2, u32(0), u32(0xffffffff), s('glenda'), s('/srv'), u32(0)) },
  { name: 'Rattach', dialects: ALL, fcall: { type: MsgType.Rattach, tag: 2, qid: QD }, bytes: frame(105, 2, q(QD)) },
  { name: 'Rerror', dialects: P, fcall: { type: MsgType.Rerror, tag: 3, ename: 'file not found' }, bytes: frame(107, 3, s('file not found')) },
  { name: 'Rerror.u', dialects: UL, fcall: { type: MsgType.Rerror, tag: 3, ename: 'file not found', errno: 2 },
    bytes: frame(107, 3, s('file not found'), u32(2)) },
  { name: 'Rlerror', dialects: L, fcall: { type: MsgType.Rlerror, tag: 3, ecode: 2 }, bytes: frame(7, 3, u32(2)) },
  { name: 'Tflush', dialects: ALL, fcall: { type: MsgType.Tflush, tag: 4, oldtag: 3 }, bytes: frame(108, 4, u16(3)) },
  { name: 'Rflush', dialects: ALL, fcall: { type: MsgType.Rflush, tag: 4 }, bytes: frame(109, 4) },
  { name: 'Twalk', dialects: ALL, fcall: { type: MsgType.Twalk, tag: 5, fid: 1, newfid: 2, wname: ['net', 'tcp'] },
    bytes: frame(110, 5, u32(1), u32(2), u16(2), s('net'), s('tcp')) },
  { name: 'Twalk.clone', dialects: ALL, fcall: { type: MsgType.Twalk, tag: 5, fid: 1, newfid: 2, wname: [] },
    bytes: frame(110, 5, u32(1), u32(2), u16(0)) },
  { name: 'Rwalk', dialects: ALL, fcall: { type: MsgType.Rwalk, tag: 5, wqid: [QD, QF] }, bytes: frame(111, 5, u16(2), q(QD), q(QF)) },
  { name: 'Topen', dialects: ALL, fcall: { type: MsgType.Topen, tag: 6, fid: 2, mode: 0x12 }, bytes: frame(112, 6, u32(2), u8(0x12)) },
  { name: 'Ropen', dialects: ALL, fcall: { type: MsgType.Ropen, tag: 6, qid: QF, iounit: 8168 }, bytes: frame(113, 6, q(QF), u32(8168)) },
  { name: 'Tcreate', dialects: P, fcall: { type: MsgType.Tcreate, tag: 7, fid: 1, name: 'new', perm: 0o644, mode: 1 },
    bytes: frame(114, 7, u32(1), s('new'), u32(0o644), u8(1)) },
  { name: 'Tcreate.u', dialects: UL, fcall: { type: MsgType.Tcreate, tag: 7, fid: 1, name: 'ln', perm: 0x02000000 | 0o777, mode: 0, extension: '/lib/x' },
    bytes: frame(114, 7, u32(1), s('ln'), u32(0x02000000 | 0o777), u8(0), s('/lib/x')) },
  { name: 'Rcreate', dialects: ALL, fcall: { type: MsgType.Rcreate, tag: 7, qid: QF, iounit: 0 }, bytes: frame(115, 7, q(QF), u32(0)) },
  { name: 'Tread', dialects: ALL, fcall: { type: MsgType.Tread, tag: 8, fid: 2, offset: 0x1_0000_0005, count: 4096 },
    bytes: frame(116, 8, u32(2), u64(0x1_0000_0005), u32(4096)) },
  { name: 'Rread', dialects: ALL, fcall: { type: MsgType.Rread, tag: 8, data }, bytes: frame(117, 8, u32(5), data) },
  { name: 'Twrite', dialects: ALL, fcall: { type: MsgType.Twrite, tag: 9, fid: 2, offset: 10, data },
    bytes: frame(118, 9, u32(2), u64(10), u32(5), data) },
  { name: 'Rwrite', dialects: ALL, fcall: { type: MsgType.Rwrite, tag: 9, count: 5 }, bytes: frame(119, 9, u32(5)) },
  { name: 'Tclunk', dialects: ALL, fcall: { type: MsgType.Tclunk, tag: 10, fid: 2 }, bytes: frame(120, 10, u32(2)) },
  { name: 'Rclunk', dialects: ALL, fcall: { type: MsgType.Rclunk, tag: 10 }, bytes: frame(121, 10) },
  { name: 'Tremove', dialects: ALL, fcall: { type: MsgType.Tremove, tag: 11, fid: 2 }, bytes: frame(122, 11, u32(2)) },
  { name: 'Rremove', dialects: ALL, fcall: { type: MsgType.Rremove, tag: 11 }, bytes: frame(123, 11) },
  { name: 'Tstat', dialects: ALL, fcall: { type: MsgType.Tstat, tag: 12, fid: 2 }, bytes: frame(124, 12, u32(2)) },
  { name: 'Rstat', dialects: P, fcall: { type: MsgType.Rstat, tag: 12, stat: dir9 },
    bytes: frame(125, 12, u16(sb9.length), sb9) },
  { name: 'Rstat.u', dialects: U, fcall: { type: MsgType.Rstat, tag: 12, stat: dirU },
    bytes: frame(125, 12, u16(sbU.length), sbU) },
  { name: 'Twstat', dialects: P, fcall: { type: MsgType.Twstat, tag: 13, fid: 2, stat: dir9 },
    bytes: frame(126, 13, u32(2), u16(sb9.length), sb9) },
  { name: 'Twstat.u', dialects: U, fcall: { type: MsgType.Twstat, tag: 13, fid: 2, stat: dirU },
    bytes: frame(126, 13, u32(2), u16(sbU.length), sbU) },
  { name: 'Rwstat', dialects: ALL, fcall: { type: MsgType.Rwstat, tag: 13 }, bytes: frame(127, 13) },
  { name: 'Tstatfs', dialects: L, fcall: { type: MsgType.Tstatfs, tag: 14, fid: 1 }, bytes: frame(8, 14, u32(1)) },
  { name: 'Rstatfs', dialects: L,
    fcall: { type: MsgType.Rstatfs, tag: 14, fsType: 0x01021997, bsize: 4096, blocks: 1000, bfree: 500, bavail: 400, files: 100, ffree: 50, fsid: 0xfedcba9876543210n, namelen: 255 },
    bytes: frame(9, 14, u32(0x01021997), u32(4096), u64(1000), u64(500), u64(400), u64(100), u64(50), u64(0xfedcba9876543210n), u32(255)) },
  { name: 'Tlopen', dialects: L, fcall: { type: MsgType.Tlopen, tag: 15, fid: 2, flags: 0o100002 }, bytes: frame(12, 15, u32(2), u32(0o100002)) },
  { name: 'Rlopen', dialects: L, fcall: { type: MsgType.Rlopen, tag: 15, qid: QF, iounit: 0 }, bytes: frame(13, 15, q(QF), u32(0)) },
  { name: 'Tlcreate', dialects: L, fcall: { type: MsgType.Tlcreate, tag: 16, fid: 1, name: 'f', flags: 0o102, mode: 0o644, gid: 100 },
    bytes: frame(14, 16, u32(1), s('f'), u32(0o102), u32(0o644), u32(100)) },
  { name: 'Rlcreate', dialects: L, fcall: { type: MsgType.Rlcreate, tag: 16, qid: QF, iounit: 1048552 }, bytes: frame(15, 16, q(QF), u32(1048552)) },
  { name: 'Tsymlink', dialects: L, fcall: { type: MsgType.Tsymlink, tag: 17, fid: 1, name: 'l', symtgt: 'target', gid: 0 },
    bytes: frame(16, 17, u32(1), s('l'), s('target'), u32(0)) },
  { name: 'Rsymlink', dialects: L, fcall: { type: MsgType.Rsymlink, tag: 17, qid: QF }, bytes: frame(17, 17, q(QF)) },
  { name: 'Tmknod', dialects: L, fcall: { type: MsgType.Tmknod, tag: 18, dfid: 1, name: 'p', mode: 0o10644, major: 0, minor: 0, gid: 0 },
    bytes: frame(18, 18, u32(1), s('p'), u32(0o10644), u32(0), u32(0), u32(0)) },
  { name: 'Rmknod', dialects: L, fcall: { type: MsgType.Rmknod, tag: 18, qid: QF }, bytes: frame(19, 18, q(QF)) },
  { name: 'Trename', dialects: L, fcall: { type: MsgType.Trename, tag: 19, fid: 2, dfid: 1, name: 'n' }, bytes: frame(20, 19, u32(2), u32(1), s('n')) },
  { name: 'Rrename', dialects: L, fcall: { type: MsgType.Rrename, tag: 19 }, bytes: frame(21, 19) },
  { name: 'Treadlink', dialects: L, fcall: { type: MsgType.Treadlink, tag: 20, fid: 2 }, bytes: frame(22, 20, u32(2)) },
  { name: 'Rreadlink', dialects: L, fcall: { type: MsgType.Rreadlink, tag: 20, target: 'target' }, bytes: frame(23, 20, s('target')) },
  { name: 'Tgetattr', dialects: L, fcall: { type: MsgType.Tgetattr, tag: 21, fid: 2, requestMask: 0x3fff }, bytes: frame(24, 21, u32(2), u64(0x3fff)) },
  { name: 'Rgetattr', dialects: L,
    fcall: { type: MsgType.Rgetattr, tag: 21, valid: 0x7ff, qid: QF, mode: 0o100644, uid: 1000, gid: 100, nlink: 1, rdev: 0, size: 5,
      blksize: 4096, blocks: 8, atimeSec: 1, atimeNsec: 2, mtimeSec: 3, mtimeNsec: 4, ctimeSec: 5, ctimeNsec: 6, btimeSec: 0, btimeNsec: 0, gen: 0, dataVersion: 0 },
    bytes: frame(25, 21, u64(0x7ff), q(QF), u32(0o100644), u32(1000), u32(100), u64(1), u64(0), u64(5), u64(4096), u64(8),
      u64(1), u64(2), u64(3), u64(4), u64(5), u64(6), u64(0), u64(0), u64(0), u64(0)) },
  { name: 'Tsetattr', dialects: L,
    fcall: { type: MsgType.Tsetattr, tag: 22, fid: 2, valid: 0x9, mode: 0o600, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 },
    bytes: frame(26, 22, u32(2), u32(0x9), u32(0o600), u32(0), u32(0), u64(0), u64(0), u64(0), u64(0), u64(0)) },
  { name: 'Rsetattr', dialects: L, fcall: { type: MsgType.Rsetattr, tag: 22 }, bytes: frame(27, 22) },
  { name: 'Txattrwalk', dialects: L, fcall: { type: MsgType.Txattrwalk, tag: 23, fid: 2, newfid: 3, name: 'user.x' },
    bytes: frame(30, 23, u32(2), u32(3), s('user.x')) },
  { name: 'Rxattrwalk', dialects: L, fcall: { type: MsgType.Rxattrwalk, tag: 23, size: 12 }, bytes: frame(31, 23, u64(12)) },
  { name: 'Txattrcreate', dialects: L, fcall: { type: MsgType.Txattrcreate, tag: 24, fid: 3, name: 'user.x', attrSize: 3, flags: 0 },
    bytes: frame(32, 24, u32(3), s('user.x'), u64(3), u32(0)) },
  { name: 'Rxattrcreate', dialects: L, fcall: { type: MsgType.Rxattrcreate, tag: 24 }, bytes: frame(33, 24) },
  { name: 'Treaddir', dialects: L, fcall: { type: MsgType.Treaddir, tag: 25, fid: 2, offset: 0, count: 8192 },
    bytes: frame(40, 25, u32(2), u64(0), u32(8192)) },
  { name: 'Rreaddir', dialects: L, fcall: { type: MsgType.Rreaddir, tag: 25, data: Buffer.concat([q(QF), u64(1), u8(8), s('a')]) },
    bytes: frame(41, 25, u32(13 + 8 + 1 + 3), q(QF), u64(1), u8(8), s('a')) },
  { name: 'Tfsync', dialects: L, fcall: { type: MsgType.Tfsync, tag: 26, fid: 2, datasync: 1 }, bytes: frame(50, 26, u32(2), u32(1)) },
  { name: 'Rfsync', dialects: L, fcall: { type: MsgType.Rfsync, tag: 26 }, bytes: frame(51, 26) },
  { name: 'Tlock', dialects: L,
    fcall: { type: MsgType.Tlock, tag: 27, fid: 2, lockType: 1, flags: 1, start: 0, length: 100, procId: 77, clientId: 'host' },
    bytes: frame(52, 27, u32(2), u8(1), u32(1), u64(0), u64(100), u32(77), s('host')) },
  { name: 'Rlock', dialects: L, fcall: { type: MsgType.Rlock, tag: 27, status: 0 }, bytes: frame(53, 27, u8(0)) },
  { name: 'Tgetlock', dialects: L, fcall: { type: MsgType.Tgetlock, tag: 28, fid: 2, lockType: 0, start: 0, length: 0, procId: 77, clientId: 'host' },
    bytes: frame(54, 28, u32(2), u8(0), u64(0), u64(0), u32(77), s('host')) },
  { name: 'Rgetlock', dialects: L, fcall: { type: MsgType.Rgetlock, tag: 28, lockType: 2, start: 0, length: 0, procId: 77, clientId: 'host' },
    bytes: frame(55, 28, u8(2), u64(0), u64(0), u32(77), s('host')) },
  { name: 'Tlink', dialects: L, fcall: { type: MsgType.Tlink, tag: 29, dfid: 1, fid: 2, name: 'h' }, bytes: frame(70, 29, u32(1), u32(2), s('h')) },
  { name: 'Rlink', dialects: L, fcall: { type: MsgType.Rlink, tag: 29 }, bytes: frame(71, 29) },
  { name: 'Tmkdir', dialects: L, fcall: { type: MsgType.Tmkdir, tag: 30, dfid: 1, name: 'd', mode: 0o755, gid: 0 },
    bytes: frame(72, 30, u32(1), s('d'), u32(0o755), u32(0)) },
  { name: 'Rmkdir', dialects: L, fcall: { type: MsgType.Rmkdir, tag: 30, qid: QD }, bytes: frame(73, 30, q(QD)) },
  { name: 'Trenameat', dialects: L, fcall: { type: MsgType.Trenameat, tag: 31, olddirfid: 1, oldname: 'a', newdirfid: 1, newname: 'b' },
    bytes: frame(74, 31, u32(1), s('a'), u32(1), s('b')) },
  { name: 'Rrenameat', dialects: L, fcall: { type: MsgType.Rrenameat, tag: 31 }, bytes: frame(75, 31) },
  { name: 'Tunlinkat', dialects: L, fcall: { type: MsgType.Tunlinkat, tag: 32, dirfd: 1, name: 'd', flags: 0x200 },
    bytes: frame(76, 32, u32(1), s('d'), u32(0x200)) },
  { name: 'Runlinkat', dialects: L, fcall: { type: MsgType.Runlinkat, tag: 32 }, bytes: frame(77, 32) },
];

/**
 * The 9P2000.L requests: checks, then the Srv's .L callback, or a mapping onto the generic ones
 * where it is obvious (lopen→open, lcreate/mkdir→create, getattr→stat, setattr→wstat,
 * readdir→dirgen, unlinkat→walk+remove, rename/renameat in one directory→wstat), or
 * EOPNOTSUPP ("operation not supported").
 *
 * The ops whose callbacks usually return at once (lopen, lcreate, getattr, statfs, unlinkat, as
 * read and write in ops.ts) are not async functions: they return the callback's value or
 * promise and set `r.post` to make the reply of it, so a value is answered in the same turn (the
 * replies of one read go out in one socket write) and only a promise waits. An async function
 * would put every reply behind a microtask and a nextTick flush: 2 µs of CPU a request here.
 */
import {
  AT_REMOVEDIR, DMDIR, Ename, Errno, L_O_ACCMODE, L_O_RDONLY, L_O_TRUNC, LOCK_SUCCESS, LOCK_TYPE_UNLCK, MsgType,
  NinepError, OREAD, OWRITE, SETATTR_GID, SETATTR_UID, V9FS_MAGIC, nullDir, type Dir, type RMessage, type Tfsync,
  type Tgetattr, type Tgetlock, type Tlcreate, type Tlink, type Tlock, type Tlopen, type Tmkdir, type Tmknod,
  type Treaddir, type Treadlink, type Trename, type Trenameat, type Tsetattr, type Tstatfs, type Tsymlink,
  type Tunlinkat, type Txattrcreate, type Txattrwalk, type Attr, type Qid, type Rgetattr, type Rstatfs,
} from '@prose/protocol';
import { attrOfDir, omodeOfFlags, wstatOfSetattr } from './attr.js';
import { notSupported } from './enames.js';
import { isThenable } from './reply.js';
import type { Fid } from './fid.js';
import { checkWstat, createIn, markOpen, openFid } from './ops.js';
import { checkName } from './perm.js';
import { readdirL } from './dirread.js';
import type { PostStep, Req } from './req.js';
import type { Session } from './session.js';
import { cloneInto, walkScratch } from './walk.js';


function notDir(): NinepError {
  return NinepError.errno(Errno.ENOTDIR);
}

/** Holds the request's directory fid and checks that it is one. */
function useDir(s: Session, r: Req, n: number, slot: 'fid' | 'fid2' = 'fid'): Fid {
  const f = s.useFid(n);
  r[slot] = f;
  if (!f.isDir) throw notDir();
  return f;
}

/** Tstatfs: `Srv.statfs` or zeros. */
export function opStatfs(s: Session, r: Req<Tstatfs>): unknown {
  const f = (r.fid = s.useFid(r.ifcall.fid));
  const srv = s.srv;
  if (srv.statfs !== undefined) {
    r.post = (_s, rr, body) => rstatfs(rr.tag, body as Omit<Rstatfs, 'type' | 'tag'>);
    return srv.statfs(f, r);
  }
  return {
    type: MsgType.Rstatfs, tag: r.tag, fsType: V9FS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0,
    files: 0, ffree: 0, fsid: 0n, namelen: 255,
  };
}

/** Tlopen: `Srv.lopen` (after the not-open and directory checks) or Topen's path. */
export function opLopen(s: Session, r: Req<Tlopen>): unknown {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const srv = s.srv;
  if (srv.lopen === undefined) return openFid(s, r, f, omodeOfFlags(t.flags), MsgType.Rlopen, t.flags);
  return whileOpening(f, r, () => {
    if (f.isDir && ((t.flags & L_O_ACCMODE) !== L_O_RDONLY || t.flags & L_O_TRUNC)) throw new NinepError(Ename.isdir, Errno.EISDIR);
    return srv.lopen!(f, t.flags, r);
  });
}

/** Tlcreate: `Srv.lcreate` or `Srv.create` with the checks of Tcreate. */
export function opLcreate(s: Session, r: Req<Tlcreate>): unknown {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const srv = s.srv;
  if (srv.lcreate === undefined) {
    if (srv.create === undefined) throw notSupported();
    return createIn(s, r, f, t.name, t.mode & 0o777, omodeOfFlags(t.flags), '', t.flags).then((qid) => rlcreate(s, r, qid));
  }
  if (f.omode !== undefined) throw new NinepError(Ename.openfid, Errno.EBADF);
  if (!f.isDir) throw new NinepError(Ename.createnondir, Errno.ENOTDIR);
  checkName(t.name);
  return whileOpening(f, r, () => srv.lcreate!(f, t.name, t.flags, t.mode, t.gid, r));
}

/**
 * Runs an open callback (`call`: Srv.lopen or Srv.lcreate) with `f` marked as opening, and
 * answers in the same turn when it returns a value, when its promise settles otherwise. A throw
 * or rejection clears the mark here, success in `postOpened`.
 */
function whileOpening(f: Fid, r: Req<Tlopen | Tlcreate>, call: () => unknown): unknown {
  f.beginOpen();
  let out;
  try {
    out = call();
  } catch (e) {
    f.opening = false;
    throw e;
  }
  r.post = postOpened;
  if (!isThenable(out)) return out;
  return out.then(undefined, (e: unknown) => {
    f.opening = false;
    throw e;
  });
}

/** Tlopen or Tlcreate done: the fid is open (unless the request was flushed meanwhile). */
const postOpened: PostStep = (s, r, qid) => {
  const f = r.fid!;
  f.opening = false;
  const flags = (r.ifcall as Tlopen | Tlcreate).flags;
  if (s.isLive(r)) {
    markOpen(s, f, omodeOfFlags(flags), qid as Qid | undefined);
    f.lflags = flags;
  }
  if (r.type === MsgType.Tlcreate) return rlcreate(s, r, qid as Qid);
  return { type: MsgType.Rlopen, tag: r.tag, qid: (qid as Qid | undefined) || f.qid, iounit: s.iounit };
};

function rlcreate(s: Session, r: Req, qid: Qid): RMessage {
  return { type: MsgType.Rlcreate, tag: r.tag, qid, iounit: s.iounit };
}

/** Tsymlink: directory and name checked; `Srv.symlink` or EOPNOTSUPP. */
export async function opSymlink(s: Session, r: Req<Tsymlink>): Promise<RMessage> {
  const t = r.ifcall;
  const dir = useDir(s, r, t.fid);
  checkName(t.name);
  if (s.srv.symlink === undefined) throw notSupported();
  const qid = await s.srv.symlink(dir, t.name, t.symtgt, t.gid, r);
  return { type: MsgType.Rsymlink, tag: r.tag, qid };
}

/** Tmknod: directory and name checked; `Srv.mknod` or EOPNOTSUPP. */
export async function opMknod(s: Session, r: Req<Tmknod>): Promise<RMessage> {
  const t = r.ifcall;
  const dir = useDir(s, r, t.dfid);
  checkName(t.name);
  if (s.srv.mknod === undefined) throw notSupported();
  const qid = await s.srv.mknod(dir, t.name, t.mode, t.major, t.minor, t.gid, r);
  return { type: MsgType.Rmknod, tag: r.tag, qid };
}

/** A wstat that changes only the name, through the full wstat checks. */
async function wstatName(s: Session, r: Req, f: Fid, name: string): Promise<void> {
  if (s.srv.wstat === undefined) throw notSupported();
  const d = nullDir();
  d.name = name;
  checkWstat(f, d);
  await s.srv.wstat(f, d, r);
}

/** Trename: `Srv.rename`, or a wstat of the name when fid is in dir, else EXDEV. */
export async function opRename(s: Session, r: Req<Trename>): Promise<RMessage> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const dir = useDir(s, r, t.dfid, 'fid2');
  checkName(t.name);
  const srv = s.srv;
  if (srv.rename !== undefined) await srv.rename(f, dir, t.name, r);
  else {
    const walks = srv.walk1 !== undefined || srv.walk !== undefined;
    if (srv.wstat === undefined || srv.stat === undefined || !walks) throw notSupported();
    // 9P cannot walk up from a file: fid is in dir when dir/<fid's name> is fid's file.
    const name = (await srv.stat(f, r)).name;
    let inDir = false;
    try {
      const probe = await walkScratch(s, r, dir, [name]);
      inDir = probe.qid.path === f.qid.path;
      await s.release(probe);
    } catch {
      inDir = false;
    }
    if (!inDir) throw NinepError.errno(Errno.EXDEV);
    if (name !== t.name) await wstatName(s, r, f, t.name);
  }
  return { type: MsgType.Rrename, tag: r.tag };
}

/** Treadlink: `Srv.readlink` or EOPNOTSUPP. */
export async function opReadlink(s: Session, r: Req<Treadlink>): Promise<RMessage> {
  const f = (r.fid = s.useFid(r.ifcall.fid));
  if (s.srv.readlink === undefined) throw notSupported();
  const target = await s.srv.readlink(f, r);
  return { type: MsgType.Rreadlink, tag: r.tag, target };
}

/** Tgetattr: `Srv.getattr` or attributes from `Srv.stat`. */
export function opGetattr(s: Session, r: Req<Tgetattr>): unknown {
  const f = (r.fid = s.useFid(r.ifcall.fid));
  const srv = s.srv;
  if (srv.getattr !== undefined) {
    r.post = postGetattr;
    return srv.getattr(f, r.ifcall.requestMask, r);
  }
  if (srv.stat === undefined) throw notSupported();
  r.post = postGetattrOfDir;
  return srv.stat(f, r);
}

const postGetattr: PostStep = (_s, r, a) => rgetattr(r.tag, a as Attr);
const postGetattrOfDir: PostStep = (_s, r, d) => rgetattr(r.tag, attrOfDir(d as Dir));

// The replies below are built field by field: an object spread (`{ ...attr, type, tag }`) of
// their many fields takes V8's slow path, about 2 µs a reply.

/** Rgetattr of `a`. */
function rgetattr(tag: number, a: Attr): Rgetattr {
  return {
    type: MsgType.Rgetattr, tag, valid: a.valid, qid: a.qid, mode: a.mode, uid: a.uid, gid: a.gid, nlink: a.nlink,
    rdev: a.rdev, size: a.size, blksize: a.blksize, blocks: a.blocks, atimeSec: a.atimeSec, atimeNsec: a.atimeNsec,
    mtimeSec: a.mtimeSec, mtimeNsec: a.mtimeNsec, ctimeSec: a.ctimeSec, ctimeNsec: a.ctimeNsec,
    btimeSec: a.btimeSec, btimeNsec: a.btimeNsec, gen: a.gen, dataVersion: a.dataVersion,
  };
}

/** Rstatfs of `b`. */
function rstatfs(tag: number, b: Omit<Rstatfs, 'type' | 'tag'>): Rstatfs {
  return {
    type: MsgType.Rstatfs, tag, fsType: b.fsType, bsize: b.bsize, blocks: b.blocks, bfree: b.bfree, bavail: b.bavail,
    files: b.files, ffree: b.ffree, fsid: b.fsid, namelen: b.namelen,
  };
}

/** Tsetattr: `Srv.setattr` or one `Srv.wstat` (chown refused). */
export async function opSetattr(s: Session, r: Req<Tsetattr>): Promise<RMessage> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const srv = s.srv;
  if (srv.setattr !== undefined) await srv.setattr(f, t, r);
  else {
    if (srv.wstat === undefined) throw notSupported();
    if (t.valid & (SETATTR_UID | SETATTR_GID)) throw NinepError.errno(Errno.EPERM);
    const current: Pick<Dir, 'mode'> = srv.stat !== undefined ? await srv.stat(f, r) : { mode: f.isDir ? DMDIR : 0 };
    const d = wstatOfSetattr(t, current, Math.floor(Date.now() / 1000));
    if (d !== undefined) {
      checkWstat(f, d);
      await srv.wstat(f, d, r);
    }
  }
  return { type: MsgType.Rsetattr, tag: r.tag };
}

/** Txattrwalk: new newfid, `Srv.xattrwalk`; the newfid is then open for reading. */
export async function opXattrwalk(s: Session, r: Req<Txattrwalk>): Promise<RMessage> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const srv = s.srv;
  if (srv.xattrwalk === undefined) throw notSupported();
  const nf = (r.newfid = s.newFid(t.newfid, f.uname, f.nUname));
  nf.qid = f.qid;
  let size: number;
  try {
    size = await srv.xattrwalk(f, nf, t.name, r);
  } catch (e) {
    s.unlink(nf);
    throw e;
  }
  if (!s.isLive(r)) s.unlink(nf);
  else {
    nf.omode = OREAD;
    nf.live = true;
  }
  return { type: MsgType.Rxattrwalk, tag: r.tag, size };
}

/** Txattrcreate: `Srv.xattrcreate`; the fid is then open for writing. */
export async function opXattrcreate(s: Session, r: Req<Txattrcreate>): Promise<RMessage> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  if (s.srv.xattrcreate === undefined) throw notSupported();
  f.beginOpen();
  try {
    await s.srv.xattrcreate(f, t.name, t.attrSize, t.flags, r);
    if (s.isLive(r)) f.omode = OWRITE;
  } finally {
    f.opening = false;
  }
  return { type: MsgType.Rxattrcreate, tag: r.tag };
}

/** Treaddir: fid an open directory; count clamped; see dirread.ts. */
export function opReaddir(s: Session, r: Req<Treaddir>): unknown {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  if (!f.isDir) throw notDir();
  if (f.omode === undefined) throw new NinepError(Ename.notopen, Errno.EBADF);
  const count = t.count > s.iounit ? s.iounit : t.count;
  return readdirL(s, r, f, t.offset, count);
}

/** Tfsync: `Srv.fsync` or success. */
export async function opFsync(s: Session, r: Req<Tfsync>): Promise<RMessage> {
  const f = (r.fid = s.useFid(r.ifcall.fid));
  if (s.srv.fsync !== undefined) await s.srv.fsync(f, r.ifcall.datasync, r);
  return { type: MsgType.Rfsync, tag: r.tag };
}

/** Tlock: `Srv.lock` or LOCK_SUCCESS. */
export async function opLock(s: Session, r: Req<Tlock>): Promise<RMessage> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const lock = { lockType: t.lockType, start: t.start, length: t.length, procId: t.procId, clientId: t.clientId };
  const status = s.srv.lock !== undefined ? await s.srv.lock(f, t.flags, lock, r) : LOCK_SUCCESS;
  return { type: MsgType.Rlock, tag: r.tag, status };
}

/** Tgetlock: `Srv.getlock` or "no conflicting lock". */
export async function opGetlock(s: Session, r: Req<Tgetlock>): Promise<RMessage> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const lock = { lockType: t.lockType, start: t.start, length: t.length, procId: t.procId, clientId: t.clientId };
  const got = s.srv.getlock !== undefined ? await s.srv.getlock(f, lock, r) : { ...lock, lockType: LOCK_TYPE_UNLCK };
  return { type: MsgType.Rgetlock, tag: r.tag, ...got };
}

/** Tlink: directory and name checked; `Srv.link` or EOPNOTSUPP. */
export async function opLink(s: Session, r: Req<Tlink>): Promise<RMessage> {
  const t = r.ifcall;
  const dir = useDir(s, r, t.dfid);
  const f = (r.fid2 = s.useFid(t.fid));
  checkName(t.name);
  if (s.srv.link === undefined) throw notSupported();
  await s.srv.link(dir, f, t.name, r);
  return { type: MsgType.Rlink, tag: r.tag };
}

/** Tmkdir: `Srv.mkdir` or `Srv.create` on a scratch clone of the directory. */
export async function opMkdir(s: Session, r: Req<Tmkdir>): Promise<RMessage> {
  const t = r.ifcall;
  const dir = useDir(s, r, t.dfid);
  checkName(t.name);
  const srv = s.srv;
  let qid;
  if (srv.mkdir !== undefined) qid = await srv.mkdir(dir, t.name, t.mode, t.gid, r);
  else {
    if (srv.create === undefined) throw notSupported();
    const tmp = s.tempFid(dir);
    try {
      await cloneInto(s, r, dir, tmp);
      qid = await createIn(s, r, tmp, t.name, (DMDIR | (t.mode & 0o777)) >>> 0, OREAD, '');
    } finally {
      await s.release(tmp);
    }
  }
  return { type: MsgType.Rmkdir, tag: r.tag, qid };
}

/** Trenameat: `Srv.renameat`, or within one directory a walk and a wstat of the name, else EXDEV. */
export async function opRenameat(s: Session, r: Req<Trenameat>): Promise<RMessage> {
  const t = r.ifcall;
  const olddir = useDir(s, r, t.olddirfid);
  const newdir = useDir(s, r, t.newdirfid, 'fid2');
  checkName(t.oldname);
  checkName(t.newname);
  const srv = s.srv;
  if (srv.renameat !== undefined) await srv.renameat(olddir, t.oldname, newdir, t.newname, r);
  else {
    if (srv.wstat === undefined || (srv.walk1 === undefined && srv.walk === undefined)) throw notSupported();
    if (olddir.qid.path !== newdir.qid.path) throw NinepError.errno(Errno.EXDEV);
    const f = await walkScratch(s, r, olddir, [t.oldname]);
    try {
      if (t.oldname !== t.newname) await wstatName(s, r, f, t.newname);
    } finally {
      await s.release(f);
    }
  }
  return { type: MsgType.Rrenameat, tag: r.tag };
}

/** Tunlinkat: `Srv.unlinkat`, or a walk, the AT_REMOVEDIR check and `Srv.remove`. */
export function opUnlinkat(s: Session, r: Req<Tunlinkat>): unknown {
  const t = r.ifcall;
  const dir = useDir(s, r, t.dirfd);
  checkName(t.name);
  const srv = s.srv;
  if (srv.unlinkat === undefined) return unlinkByRemove(s, r, dir, t);
  r.post = postUnlinkat;
  return srv.unlinkat(dir, t.name, t.flags, r);
}

const postUnlinkat: PostStep = (_s, r) => ({ type: MsgType.Runlinkat, tag: r.tag });

/** Tunlinkat without `Srv.unlinkat`: a walk to the name and `Srv.remove` of it. */
async function unlinkByRemove(s: Session, r: Req, dir: Fid, t: Tunlinkat): Promise<RMessage> {
  if (s.srv.remove === undefined || (s.srv.walk1 === undefined && s.srv.walk === undefined)) throw notSupported();
  const f = await walkScratch(s, r, dir, [t.name]);
  try {
    if (t.flags & AT_REMOVEDIR) {
      if (!f.isDir) throw notDir();
    } else if (f.isDir) throw NinepError.errno(Errno.EISDIR);
    await s.srv.remove(f, r);
  } finally {
    await s.release(f);
  }
  return { type: MsgType.Runlinkat, tag: r.tag };
}

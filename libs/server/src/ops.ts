/**
 * The 9P2000 requests besides Tversion, Tflush and Twalk: lib9p's s* pre-checks, the call to
 * the Srv, and the r* post-steps, each in one function. Hot paths (read, write, clunk) stay
 * synchronous when the Srv answers synchronously.
 */
import {
  DMDIR, Ename, Errno, MsgType, NOFID, NinepError, OREAD, ORCLOSE, ORDWR, QTAUTH, QTDIR,
  type Dir, type Qid, type RMessage, type Rattach, type Rauth, type Rcreate, type Ropen, type Tattach,
  type Tauth, type Tclunk, type Tcreate, type Topen, type Tread, type Tremove, type Tstat, type Twrite,
  type Twstat,
} from '@prose/protocol';
import { srvError } from './enames.js';
import type { Fid } from './fid.js';
import { checkDirOpen, checkName, checkOpenPerm, createPerm, hasPerm, AWRITE } from './perm.js';
import { readDirectory } from './dirread.js';
import { isThenable } from './reply.js';
import type { Req } from './req.js';
import type { Session } from './session.js';

const ROOT_QID: Qid = { type: QTDIR, version: 0, path: 0n };
const RCLUNK = MsgType.Rclunk;
const RWRITE = MsgType.Rwrite;

/** Tauth: new afid (number unused), `Srv.auth` or "authentication not required"; the afid is open for the auth protocol. */
export async function opAuth(s: Session, r: Req<Tauth>): Promise<Rauth> {
  const t = r.ifcall;
  const srv = s.srv;
  if (srv.auth === undefined) throw new NinepError(Ename.noauth, Errno.EINVAL);
  if (t.afid === NOFID) throw new NinepError(Ename.unknownfid, Errno.EBADF);
  const af = (r.newfid = s.newFid(t.afid, t.uname, t.nUname ?? NOFID));
  af.qid = { type: QTAUTH, version: 0, path: 0n };
  let aqid: Qid;
  try {
    aqid = await srv.auth(af, r);
  } catch (e) {
    s.unlink(af);
    throw e;
  }
  if (!s.isLive(r)) {
    s.unlink(af);
    return { type: MsgType.Rauth, tag: r.tag, aqid };
  }
  af.qid = { type: aqid.type | QTAUTH, version: aqid.version, path: aqid.path };
  af.omode = ORDWR;
  af.live = true;
  return { type: MsgType.Rauth, tag: r.tag, aqid: af.qid };
}

/** Tattach: afid (when given) must be an auth fid; fid new; `Srv.attach` or the default root. */
export async function opAttach(s: Session, r: Req<Tattach>): Promise<Rattach> {
  const t = r.ifcall;
  const srv = s.srv;
  let af: Fid | undefined;
  if (t.afid !== NOFID) {
    af = r.fid2 = s.useFid(t.afid);
    if (!af.isAuth) throw srvError('notauthfid');
  }
  const f = (r.newfid = s.newFid(t.fid, t.uname, t.nUname ?? NOFID));
  let qid: Qid;
  try {
    if (srv.attach !== undefined) qid = await srv.attach(f, af, r);
    else if (t.aname === '') qid = ROOT_QID;
    else throw new NinepError(Ename.badattach, Errno.ENOENT);
  } catch (e) {
    s.unlink(f);
    throw e;
  }
  if (!s.isLive(r)) s.unlink(f);
  else {
    f.qid = qid;
    f.live = true;
  }
  return { type: MsgType.Rattach, tag: r.tag, qid };
}

/** Stat for a permission check, or undefined when the Srv leaves permissions to itself. */
export async function permStat(s: Session, f: Fid, r: Req): Promise<Dir | undefined> {
  const srv = s.srv;
  if (srv.checkPerm === false || srv.stat === undefined) return undefined;
  return srv.stat(f, r);
}

/** The ropen post-step: the fid is open with `mode`; directory reads start over. */
export function markOpen(s: Session, f: Fid, mode: number, qid: Qid | void): void {
  if (qid) f.qid = qid;
  f.omode = mode;
  f.dirOffset = 0;
  f.dirIndex = 0;
  if (mode & ORCLOSE) f.rclose = true;
}

/** Topen: sopen checks, `Srv.open`, ropen post-step. */
export async function opOpen(s: Session, r: Req<Topen>): Promise<Ropen> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  return openFid(s, r, f, t.mode, MsgType.Ropen) as Promise<Ropen>;
}

/** Topen, and Tlopen mapped onto `Srv.open`. */
export async function openFid(
  s: Session, r: Req, f: Fid, mode: number, rtype: MsgType.Ropen | MsgType.Rlopen, lflags?: number,
): Promise<RMessage> {
  f.beginOpen();
  try {
    checkDirOpen(f.isDir, mode);
    const d = await permStat(s, f, r);
    if (d !== undefined) checkOpenPerm(d, f.uname, mode);
    const srv = s.srv;
    const qid = srv.open !== undefined ? await srv.open(f, mode, r) : undefined;
    if (s.isLive(r)) {
      markOpen(s, f, mode, qid);
      if (lflags !== undefined) f.lflags = lflags;
    }
    return { type: rtype, tag: r.tag, qid: qid || f.qid, iounit: s.iounit } as RMessage;
  } finally {
    f.opening = false;
  }
}

/** Tcreate: screate checks, `Srv.create`, rcreate post-step. */
export async function opCreate(s: Session, r: Req<Tcreate>): Promise<Rcreate> {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const qid = await createIn(s, r, f, t.name, t.perm, t.mode, t.extension ?? '');
  return { type: MsgType.Rcreate, tag: r.tag, qid, iounit: s.iounit };
}

/** screate checks, `Srv.create`, rcreate post-step. Used by Tcreate, Tlcreate and Tmkdir. */
export async function createIn(
  s: Session, r: Req, f: Fid, name: string, perm: number, mode: number, extension: string, lflags?: number,
): Promise<Qid> {
  if (f.omode !== undefined) throw new NinepError(Ename.openfid, Errno.EBADF);
  if (!f.isDir) throw new NinepError(Ename.createnondir, Errno.ENOTDIR);
  checkName(name);
  if (perm & DMDIR && (mode & ~ORCLOSE) !== OREAD) throw new NinepError(Ename.isdir, Errno.EISDIR);
  const srv = s.srv;
  if (srv.create === undefined) throw new NinepError(Ename.nocreate, Errno.EPERM);
  f.beginOpen();
  try {
    const d = await permStat(s, f, r);
    if (d !== undefined) {
      if (!hasPerm(d, f.uname, AWRITE)) throw new NinepError(Ename.perm, Errno.EACCES);
      perm = createPerm(perm, d.mode);
    }
    const qid = await srv.create(f, name, perm >>> 0, mode, extension, r);
    if (s.isLive(r)) {
      markOpen(s, f, mode, qid);
      if (lflags !== undefined) f.lflags = lflags;
    }
    return qid;
  } finally {
    f.opening = false;
  }
}

function postRead(s: Session, r: Req, data: unknown): RMessage {
  let b = data as Buffer;
  if (b.length > r.n) b = b.subarray(0, r.n);
  return { type: MsgType.Rread, tag: r.tag, data: b };
}

/** Tread: fid open for reading; count clamped to the iounit; directories through dirread.ts. */
export function opRead(s: Session, r: Req<Tread>): unknown {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  if (f.omode === undefined) throw new NinepError(Ename.notopen, Errno.EBADF);
  if (!f.canRead) throw srvError('notread');
  const count = t.count > s.iounit ? s.iounit : t.count;
  if (f.qid.type & QTDIR) return readDirectory(s, r, f, t.offset, count);
  const srv = s.srv;
  if (srv.read === undefined) throw new NinepError(Ename.noread, Errno.EACCES);
  r.n = count;
  r.post = postRead;
  return srv.read(f, t.offset, count, r);
}

function postWrite(s: Session, r: Req, n: unknown): RMessage {
  return { type: RWRITE, tag: r.tag, count: typeof n === 'number' ? n : (r.ifcall as Twrite).data.length };
}

/** Twrite: fid open for writing; `Srv.write`; no count means all of the data. */
export function opWrite(s: Session, r: Req<Twrite>): unknown {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  if (f.omode === undefined) throw new NinepError(Ename.notopen, Errno.EBADF);
  if (!f.canWrite) throw srvError('notwrite');
  const srv = s.srv;
  if (srv.write === undefined) throw new NinepError(Ename.nowrite, Errno.EACCES);
  r.post = postWrite;
  return srv.write(f, t.offset, t.data, r);
}

const rclunk = (r: Req) => ({ type: RCLUNK, tag: r.tag }) as RMessage;

/** Tclunk: the fid is gone whatever happens; ORCLOSE removes the file first (open(5)). */
export function opClunk(s: Session, r: Req<Tclunk>): unknown {
  const f = s.fids.get(r.ifcall.fid);
  if (f === undefined) throw new NinepError(Ename.unknownfid, Errno.EBADF);
  const p = s.unlink(f);
  if (isThenable(p)) return Promise.resolve(p).then(() => rclunk(r));
  return rclunk(r);
}

/** Tremove: the fid is clunked even if the remove fails (remove(5)). */
export async function opRemove(s: Session, r: Req<Tremove>): Promise<RMessage> {
  const f = s.useFid(r.ifcall.fid);
  s.unlink(f);
  f.rclose = false;
  try {
    const srv = s.srv;
    if (srv.remove === undefined) throw new NinepError(Ename.noremove, Errno.EPERM);
    await srv.remove(f, r);
  } finally {
    await s.release(f);
  }
  return { type: MsgType.Rremove, tag: r.tag };
}

function postStat(s: Session, r: Req, d: unknown): RMessage {
  return { type: MsgType.Rstat, tag: r.tag, stat: d as Dir };
}

/** Tstat: `Srv.stat` or "stat prohibited". */
export function opStat(s: Session, r: Req<Tstat>): unknown {
  const f = (r.fid = s.useFid(r.ifcall.fid));
  const srv = s.srv;
  if (srv.stat === undefined) throw new NinepError(Ename.nostat, Errno.EPERM);
  r.post = postStat;
  return srv.stat(f, r);
}

/**
 * The lib9p swstat checks: only what a client may change, and never the DMDIR bit. In 9P2000.u
 * the muid is not checked: Linux v9fs fills it (with its user name) in every Twstat, a rename
 * included, and the server never changes it anyway.
 */
export function checkWstat(f: Fid, d: Dir): void {
  if (d.type !== 0xffff) throw srvError('wstattype');
  if (d.dev !== 0xffffffff) throw srvError('wstatdev');
  if (d.qid.type !== 0xff || d.qid.version !== 0xffffffff || d.qid.path !== 0xffffffffffffffffn) throw srvError('wstatqid');
  if (d.muid !== '' && f.session.dialect !== '9P2000.u') throw srvError('wstatmuid');
  if (d.mode !== 0xffffffff && ((d.mode & DMDIR) !== 0) !== f.isDir) throw srvError('wstatdir');
  if (d.name !== '') checkName(d.name);
}

/** Twstat: the lib9p checks, then `Srv.wstat` or "wstat prohibited". */
export function opWstat(s: Session, r: Req<Twstat>): unknown {
  const t = r.ifcall;
  const f = (r.fid = s.useFid(t.fid));
  const srv = s.srv;
  if (srv.wstat === undefined) throw new NinepError(Ename.nowstat, Errno.EPERM);
  checkWstat(f, t.stat);
  r.post = postRwstat;
  return srv.wstat(f, t.stat, r);
}

function postRwstat(s: Session, r: Req): RMessage {
  return { type: MsgType.Rwstat, tag: r.tag };
}

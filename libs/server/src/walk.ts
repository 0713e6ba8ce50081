/**
 * Twalk per walk(5), with lib9p's swalk checks and rwalk post-steps in one place:
 * - fid must exist and not be open ("cannot clone open fid"); nwname ≤ MAXWELEM;
 * - walking one or more names needs a directory ("walk in non-directory");
 * - newfid must be unused unless it equals fid;
 * - nwname 0 clones; the first name failing is an error; a later one answers the qids walked
 *   so far and newfid is not created; newfid == fid is replaced only when the whole walk succeeds.
 */
import {
  Ename, Errno, MAXWELEM, MsgType, NinepError, QTDIR, isUnexpected, type Qid, type Rwalk, type Twalk,
} from '@prose/protocol';
import type { Fid } from './fid.js';
import { isWalkName } from './perm.js';
import { isThenable } from './reply.js';
import type { Req } from './req.js';
import type { Session } from './session.js';

function notFound(): NinepError {
  return new NinepError(Ename.notfound, Errno.ENOENT);
}

/**
 * Twalk: the checks above, then the walk into a reserved newfid (or a scratch one for newfid ==
 * fid). Not an async function: when `Srv.clone` and `walk1`/`walk` answer at once (as a
 * synthetic tree or the storage export does), so does the walk — an async function would put
 * every Rwalk behind microtasks and a nextTick flush (about 1.5 µs of server CPU a walk here).
 * The first promise a callback returns hands the rest of the walk to an async continuation.
 */
export function opWalk(s: Session, r: Req<Twalk>): Rwalk | NinepError | Promise<Rwalk | NinepError> {
  const t = r.ifcall;
  const fid = (r.fid = s.useFid(t.fid));
  if (fid.omode !== undefined) throw new NinepError(Ename.clonefid, Errno.EBADF);
  const names = t.wname;
  if (names.length > MAXWELEM) throw new NinepError(Ename.toomanywnames, Errno.E2BIG);
  if (names.length > 0 && (fid.qid.type & QTDIR) === 0) throw new NinepError(Ename.walknodir, Errno.ENOTDIR);
  if (t.newfid === t.fid && names.length === 0) return { type: MsgType.Rwalk, tag: r.tag, wqid: [] };
  let nf: Fid;
  if (t.newfid === t.fid) nf = s.tempFid(fid);
  else {
    nf = s.newFid(t.newfid, fid.uname, fid.nUname);
    nf.qid = fid.qid;
  }
  r.newfid = nf;
  let walked: WalkResult | Promise<WalkResult>;
  try {
    const cloned = cloneInto(s, r, fid, nf);
    walked = cloned === undefined ? walkNames(s, r, fid, nf, names) : cloned.then(() => walkNames(s, r, fid, nf, names));
  } catch (e) {
    abandon(s, nf);
    throw e;
  }
  if (!isThenable<WalkResult>(walked)) return endWalk(s, r, fid, nf, names, walked);
  return walked.then(
    (w) => endWalk(s, r, fid, nf, names, w),
    (e: unknown) => {
      abandon(s, nf);
      throw e;
    },
  );
}

/**
 * The Rwalk of a walk that went as far as `w` says; newfid becomes live only if it reached the
 * end. A walk that failed at its first name answers its error, returned rather than thrown when
 * it is a NinepError (a walk to a missing name is the most common failure a file server sees).
 */
function endWalk(s: Session, r: Req<Twalk>, fid: Fid, nf: Fid, names: string[], w: WalkResult): Rwalk | NinepError {
  const wqid = w.wqid;
  if (wqid.length < names.length || !s.isLive(r)) {
    abandon(s, nf);
    if (wqid.length === 0 && names.length > 0) {
      const e = w.err ?? notFound();
      if (e instanceof NinepError) return e;
      throw e;
    }
    return { type: MsgType.Rwalk, tag: r.tag, wqid };
  }
  if (nf.inTable) nf.live = true;
  else if (s.fids.replace(fid, nf)) s.release(fid);
  return { type: MsgType.Rwalk, tag: r.tag, wqid };
}

/** A walk that did not complete: its new fid never becomes usable. */
function abandon(s: Session, nf: Fid): void {
  if (nf.inTable) s.unlink(nf);
}

/** Gives `nf` (a clone of fid) its per-fid state: `Srv.clone`, or a shared aux. A promise only if `clone` returned one. */
export function cloneInto(s: Session, r: Req, fid: Fid, nf: Fid): Promise<void> | undefined {
  const srv = s.srv;
  if (srv.clone === undefined) {
    nf.aux = fid.aux;
    return undefined;
  }
  const v = srv.clone(fid, nf, r);
  return isThenable(v) ? Promise.resolve(v).then(() => undefined) : undefined;
}

/** How far a walk got: the qids walked and, when it stopped early, why. */
export interface WalkResult {
  wqid: Qid[];
  err?: unknown;
}

/**
 * Walks `nf` through `names` with `Srv.walk` or `Srv.walk1`; returns the qids walked and, when
 * it stopped early, why. Updates nf.qid as it goes. A promise only once a callback returned one.
 */
export function walkNames(s: Session, r: Req, fid: Fid, nf: Fid, names: readonly string[]): WalkResult | Promise<WalkResult> {
  const srv = s.srv;
  if (names.length === 0) return { wqid: [] };
  if (srv.walk !== undefined) {
    let n = 0;
    while (n < names.length && isWalkName(names[n]!)) n++;
    if (n === 0) return { wqid: [], err: badName() };
    const v = srv.walk(fid, nf, n === names.length ? names : names.slice(0, n), r);
    if (isThenable<Qid[]>(v)) return Promise.resolve(v).then((wqid) => wholeWalk(nf, wqid, n, names.length));
    return wholeWalk(nf, v, n, names.length);
  }
  if (srv.walk1 === undefined) return { wqid: [], err: notFound() };
  return walk1From(s, r, nf, names, []);
}

/** The result of `Srv.walk` over the first `n` of `total` names (those past `n` are bad names). */
function wholeWalk(nf: Fid, wqid: Qid[], n: number, total: number): WalkResult {
  if (wqid.length > n) wqid.length = n;
  if (wqid.length > 0) nf.qid = wqid[wqid.length - 1]!;
  const err = wqid.length < n ? notFound() : n < total ? badName() : undefined;
  return { wqid, err };
}

/** `Srv.walk1` over the names after the `wqid.length` already walked, at once while it answers at once. */
function walk1From(s: Session, r: Req, nf: Fid, names: readonly string[], wqid: Qid[]): WalkResult | Promise<WalkResult> {
  const walk1 = s.srv.walk1!;
  for (let i = wqid.length; i < names.length; i++) {
    const name = names[i]!;
    if ((nf.qid.type & QTDIR) === 0) return { wqid, err: new NinepError(Ename.walknodir, Errno.ENOTDIR) };
    if (!isWalkName(name)) return { wqid, err: badName() };
    let v: Qid | NinepError | PromiseLike<Qid | NinepError>;
    try {
      v = walk1.call(s.srv, nf, name, r);
    } catch (e) {
      return stopped(s, wqid, name, e);
    }
    if (isThenable<Qid | NinepError>(v)) {
      return Promise.resolve(v).then(
        (q) => {
          if (q instanceof NinepError) return stopped(s, wqid, name, q);
          nf.qid = q;
          wqid.push(q);
          return walk1From(s, r, nf, names, wqid);
        },
        (e: unknown) => stopped(s, wqid, name, e),
      );
    }
    if (v instanceof NinepError) return stopped(s, wqid, name, v);
    nf.qid = v;
    wqid.push(v);
  }
  return { wqid };
}

/** A walk1 of `name` failed after `wqid`: the walk stops there (an unexpected error past the first name is logged). */
function stopped(s: Session, wqid: Qid[], name: string, e: unknown): WalkResult {
  if (wqid.length > 0 && isUnexpected(e)) {
    s.logger.error('unexpected error in walk1', { session: s.id, name, stack: e instanceof Error ? e.stack : String(e) });
  }
  return { wqid, err: e };
}

function badName(): NinepError {
  return new NinepError(Ename.badname, Errno.EINVAL);
}

/**
 * A scratch fid walked from `from` through `names` (for the .L mappings: unlinkat, renameat...).
 * Throws when the walk does not reach the end. The caller owns one reference: `s.release()` it.
 */
export async function walkScratch(s: Session, r: Req, from: Fid, names: readonly string[]): Promise<Fid> {
  const nf = s.tempFid(from);
  try {
    await cloneInto(s, r, from, nf);
    const { wqid, err } = await walkNames(s, r, from, nf, names);
    if (wqid.length < names.length) throw err ?? notFound();
  } catch (e) {
    await s.release(nf);
    throw e;
  }
  return nf;
}

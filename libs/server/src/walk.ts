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

/** Twalk: the checks above, then the walk into a reserved newfid (or a scratch one for newfid == fid). */
export function opWalk(s: Session, r: Req<Twalk>): Rwalk | Promise<Rwalk> {
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
  return walkInto(s, r, fid, nf, names);
}

async function walkInto(s: Session, r: Req<Twalk>, fid: Fid, nf: Fid, names: string[]): Promise<Rwalk> {
  let wqid: Qid[];
  let err: unknown;
  try {
    await cloneInto(s, r, fid, nf);
    ({ wqid, err } = await walkNames(s, r, fid, nf, names));
  } catch (e) {
    abandon(s, nf);
    throw e;
  }
  if (wqid.length < names.length || !s.isLive(r)) {
    abandon(s, nf);
    if (wqid.length === 0 && names.length > 0) throw err ?? notFound();
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

/** Gives `nf` (a clone of fid) its per-fid state: `Srv.clone`, or a shared aux. */
export async function cloneInto(s: Session, r: Req, fid: Fid, nf: Fid): Promise<void> {
  const srv = s.srv;
  if (srv.clone === undefined) {
    nf.aux = fid.aux;
    return;
  }
  const v = srv.clone(fid, nf, r);
  if (isThenable(v)) await v;
}

/**
 * Walks `nf` through `names` with `Srv.walk` or `Srv.walk1`; returns the qids walked and, when
 * it stopped early, why. Updates nf.qid as it goes.
 */
export async function walkNames(
  s: Session, r: Req, fid: Fid, nf: Fid, names: readonly string[],
): Promise<{ wqid: Qid[]; err?: unknown }> {
  const srv = s.srv;
  if (names.length === 0) return { wqid: [] };
  if (srv.walk !== undefined) {
    let n = 0;
    while (n < names.length && isWalkName(names[n]!)) n++;
    const wqid = n > 0 ? await srv.walk(fid, nf, n === names.length ? names : names.slice(0, n), r) : [];
    if (wqid.length > n) wqid.length = n;
    if (wqid.length > 0) nf.qid = wqid[wqid.length - 1]!;
    const err = wqid.length < n ? notFound() : n < names.length ? badName() : undefined;
    return { wqid, err };
  }
  const wqid: Qid[] = [];
  if (srv.walk1 === undefined) return { wqid, err: notFound() };
  for (const name of names) {
    if ((nf.qid.type & QTDIR) === 0) return { wqid, err: new NinepError(Ename.walknodir, Errno.ENOTDIR) };
    if (!isWalkName(name)) return { wqid, err: badName() };
    let q: Qid;
    try {
      const v = srv.walk1(nf, name, r);
      q = isThenable<Qid>(v) ? await v : v;
    } catch (e) {
      if (wqid.length > 0 && isUnexpected(e)) {
        s.logger.error('unexpected error in walk1', { session: s.id, name, stack: e instanceof Error ? e.stack : String(e) });
      }
      return { wqid, err: e };
    }
    nf.qid = q;
    wqid.push(q);
  }
  return { wqid };
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

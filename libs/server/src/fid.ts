/**
 * Server-side fids and the per-session fid table. A Fid object lives from the request that
 * creates it (Tattach, Tauth, Twalk, Txattrwalk) until it leaves the table and the last
 * request holding it is done; then `Srv.destroyfid` runs once (lib9p's refcounted fids).
 */
import { Ename, Errno, NinepError, OEXEC, ORDWR, OREAD, OWRITE, QTAUTH, QTDIR, type Qid } from '@prose/protocol';
import type { Session } from './session.js';

const NOQID: Qid = { type: 0, version: 0, path: 0n };

/** One fid of one session, as servers see it. */
export class Fid<A = unknown> {
  /** The fid number the client chose. */
  readonly fid: number;
  /** The file it refers to; the framework updates it after walk, open and create. */
  qid: Qid = NOQID;
  /** Plan 9 open mode (OREAD..OEXEC | OTRUNC | ORCLOSE) once open; undefined before. */
  omode: number | undefined = undefined;
  /** The Linux open flags when opened by Tlopen/Tlcreate. */
  lflags: number | undefined = undefined;
  /** The user named in the Tattach/Tauth this fid descends from. */
  readonly uname: string;
  /** The numeric user of .u/.L attaches (NONUNAME when none was given). */
  readonly nUname: number;
  /** Per-fid state of the server: set it in attach/clone/walk1/open/create. */
  aux: A = undefined as A;
  /** The session the fid belongs to. */
  readonly session: Session;
  /** 9P2000 directory reads: byte offset where the next read must start, and the next entry. */
  dirOffset = 0;
  dirIndex = 0;

  /** @internal References: the table's and each request's that holds the fid. */
  refs = 0;
  /** @internal True while in the table (reserved or live). */
  inTable = false;
  /** @internal False while a creating request is still running (the number is reserved). */
  live = false;
  /** @internal Remove the file when the fid goes (ORCLOSE). */
  rclose = false;
  /** @internal destroyfid has run (or is running). */
  destroyed = false;
  /** @internal An open or create of this fid is under way (a second one is refused). */
  opening = false;

  constructor(session: Session, fid: number, uname: string, nUname: number) {
    this.session = session;
    this.fid = fid;
    this.uname = uname;
    this.nUname = nUname;
  }

  /** @internal Throws "fid already open" when the fid is open or being opened; else marks it being opened. */
  beginOpen(): void {
    if (this.omode !== undefined || this.opening) throw new NinepError(Ename.openfid, Errno.EBADF);
    this.opening = true;
  }

  /** True once opened (Topen, Tcreate, Tlopen, Tlcreate, or an auth/xattr fid). */
  get isOpen(): boolean {
    return this.omode !== undefined;
  }

  get isDir(): boolean {
    return (this.qid.type & QTDIR) !== 0;
  }

  get isAuth(): boolean {
    return (this.qid.type & QTAUTH) !== 0;
  }

  /** Open for reading: OREAD, ORDWR or OEXEC. */
  get canRead(): boolean {
    const m = this.omode;
    if (m === undefined) return false;
    const o = m & 3;
    return o === OREAD || o === ORDWR || o === OEXEC;
  }

  /** Open for writing: OWRITE or ORDWR. */
  get canWrite(): boolean {
    const m = this.omode;
    if (m === undefined) return false;
    const o = m & 3;
    return o === OWRITE || o === ORDWR;
  }
}

/** The fids of one session, bounded by `max`. */
export class FidTable {
  private readonly map = new Map<number, Fid>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The live fid with this number, or undefined (reserved numbers are not yet usable). */
  get(n: number): Fid | undefined {
    const f = this.map.get(n);
    return f !== undefined && f.live ? f : undefined;
  }

  /** Puts a new fid in the table, not yet live. Throws "duplicate fid" or "too many fids". */
  reserve(f: Fid): void {
    if (this.map.has(f.fid)) throw new NinepError(Ename.dupfid, Errno.EBADF);
    if (this.map.size >= this.max) throw new NinepError(Ename.toomanyfids, Errno.EMFILE);
    this.map.set(f.fid, f);
    f.inTable = true;
    f.refs++;
  }

  /** Puts `f` in place of `old` (a walk with newfid == fid). Returns false when old is gone. */
  replace(old: Fid, f: Fid): boolean {
    if (this.map.get(old.fid) !== old) return false;
    this.map.set(f.fid, f);
    f.inTable = true;
    f.live = true;
    f.refs++;
    old.inTable = false;
    return true;
  }

  /** Takes `f` out of the table (if it is there). The caller drops the table's reference. */
  delete(f: Fid): boolean {
    if (!f.inTable) return false;
    if (this.map.get(f.fid) === f) this.map.delete(f.fid);
    f.inTable = false;
    return true;
  }

  /** Empties the table and returns what was in it. */
  drain(): Fid[] {
    const all = [...this.map.values()];
    this.map.clear();
    for (const f of all) f.inTable = false;
    return all;
  }
}

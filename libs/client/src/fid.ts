/**
 * Fid: a handle on one fid of a session, with every 9P2000 and 9P2000.L operation on it and the
 * path helpers (readFile, writeFile, list, streams) built from them.
 */
import * as os from 'node:os';
import {
  AT_REMOVEDIR, Errno, GETATTR_BASIC, IOHDRSZ, L_O_CREAT, L_O_RDONLY, L_O_TRUNC, L_O_WRONLY, LOCK_TYPE_WRLCK,
  MAXWELEM, MsgType, NinepError, OREAD, OTRUNC, OWRITE, QTDIR, SETATTR_ATIME, SETATTR_ATIME_SET, SETATTR_CTIME,
  SETATTR_GID, SETATTR_MODE, SETATTR_MTIME, SETATTR_MTIME_SET, SETATTR_SIZE, SETATTR_UID, nullDir, unpackDirents,
  unpackDirs, type Attr, type Dir, type Dirent, type Qid, type Rgetlock, type Rstatfs,
} from '@prose/protocol';
import type { CallOptions, Client } from './client.js';
import { AbortError, WalkError } from './errors.js';
import { FidReadStream, FidWriteStream, readAll, writeAll, type ReadAllOptions, type ReadStreamOptions, type WriteAllOptions, type WriteStreamOptions } from './io.js';
import { Ret, type DataRef } from './mux.js';

const noop = (): void => {};
/** Read once (a package's named import is a getter on each use, compiled to CommonJS). */
const TWRITE = MsgType.Twrite;

/** Splits a slash-separated path into walk names; empty names and "." are dropped. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((n) => n !== '' && n !== '.');
}

/** One directory entry, whatever the dialect. */
export interface DirEntry {
  name: string;
  qid: Qid;
  /** .L: the DT_* type from Rreaddir. */
  type?: number;
  /** 9P2000/.u: the stat record. */
  stat?: Dir;
}

/** Rstatfs without type and tag. */
export type Statfs = Omit<Rstatfs, 'type' | 'tag'>;
/** Rgetlock without type and tag. */
export type LockInfo = Omit<Rgetlock, 'type' | 'tag'>;

/** A time for setattr: seconds and nanoseconds, a Date, or 'now' (the server's clock). */
export type TimeSpec = { sec: number; nsec?: number } | Date | 'now';

/** What Tsetattr should change; the `valid` mask is derived from the fields given. */
export interface SetattrChanges {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: TimeSpec;
  mtime?: TimeSpec;
  /** Set ctime to the server's now. */
  ctime?: boolean;
}

export interface LockOptions extends CallOptions {
  /** LOCK_TYPE_RDLCK, LOCK_TYPE_WRLCK (default) or LOCK_TYPE_UNLCK. */
  lockType?: number;
  /** LOCK_FLAGS_BLOCK / LOCK_FLAGS_RECLAIM (Tlock only). */
  flags?: number;
  start?: number;
  /** 0: to the end of the file. */
  length?: number;
  /** Default: this process's pid. */
  procId?: number;
  /** Default: this host's name. */
  clientId?: string;
}

export interface GidOptions extends CallOptions {
  /** Default: the client's gid. */
  gid?: number;
}

export interface ReadFileOptions extends CallOptions {
  /** Requests in flight (default 4). */
  window?: number;
}

export interface WriteFileOptions extends CallOptions {
  /** Permission bits when the file is created (default 0o644). */
  mode?: number;
  /** Requests in flight (default 4). */
  window?: number;
}

function timeParts(t: TimeSpec): { sec: number; nsec: number } {
  if (t === 'now') return { sec: 0, nsec: 0 };
  if (t instanceof Date) {
    const ms = t.getTime();
    const sec = Math.floor(ms / 1000);
    return { sec, nsec: (ms - sec * 1000) * 1e6 };
  }
  return { sec: t.sec, nsec: t.nsec ?? 0 };
}

/** The cookie to continue a listing after `ents` (exact, also above 2^53). */
export function nextCookie(ents: readonly Dirent[]): number | bigint {
  const last = ents[ents.length - 1]!;
  return last.cookie ?? last.offset;
}

function gone(f: Fid): Promise<never> {
  return Promise.reject(new NinepError(`fid ${f.fid} (${JSON.stringify(f.path)}) is clunked`, Errno.EBADF));
}

function isUnsupported(err: unknown): boolean {
  return err instanceof NinepError && (err.errno === Errno.EOPNOTSUPP || err.errno === Errno.ENOSYS);
}

/**
 * A fid on the server. Made by `Client.attach`, `Client.auth`, `walk`, `clone` and `xattrwalk`;
 * given back with `clunk` or `remove` (after which its methods reject with EBADF and its number
 * is reused). Methods map one to one onto 9P requests unless their doc says otherwise; the .L
 * ones need a 9P2000.L session, `open`/`create`/`stat`/`wstat` are the 9P2000/.u ones (diod, a
 * .L-only server, answers them with an error).
 */
export class Fid {
  /** What the fid points at; updated by open and create. */
  qid: Qid;
  /** Names walked from the attach point, joined with "/" ("" for the root). For messages. */
  path: string;
  /** iounit of the open/create reply; 0 when none was given (or not open). */
  iounit = 0;
  /** True after open/create/lopen/lcreate/xattrcreate. */
  opened = false;
  private dead = false;

  constructor(
    readonly client: Client,
    /** The fid number on the wire. */
    readonly fid: number,
    qid: Qid,
    path: string,
  ) {
    this.qid = qid;
    this.path = path;
  }

  get isDir(): boolean {
    return (this.qid.type & QTDIR) !== 0;
  }

  /** True once clunked or removed. */
  get clunked(): boolean {
    return this.dead;
  }

  /** The largest count of one read or write: the iounit, or msize-IOHDRSZ if it is 0 or larger. */
  get ioSize(): number {
    const max = this.client.msize - IOHDRSZ;
    return this.iounit > 0 && this.iounit < max ? this.iounit : max;
  }

  toString(): string {
    return `fid ${this.fid} ${JSON.stringify(this.path)}`;
  }

  private sub(names: readonly string[]): string {
    const rest = names.join('/');
    return this.path && rest ? `${this.path}/${rest}` : this.path || rest;
  }

  // 9P2000 (and every dialect)

  /**
   * Twalk: a new Fid for `path` (a "/"-separated string or the names). Paths of more than
   * MAXWELEM names go as several Twalks, the later ones walking the new fid in place. If a name
   * is missing the walk rejects with a WalkError (ENOENT for a partial Rwalk; the server's errno
   * for an error reply) and no fid is left on the server. An empty path clones.
   */
  async walk(path: string | readonly string[], opts?: CallOptions): Promise<Fid> {
    if (this.dead) return gone(this);
    const names = typeof path === 'string' ? splitPath(path) : path;
    const client = this.client;
    const signal = opts?.signal;
    const newfid = client.allocFid();
    let made = false;
    let qid = this.qid;
    try {
      if (names.length === 0) {
        await client.call({ type: MsgType.Twalk, tag: 0, fid: this.fid, newfid, wname: [] }, Ret.Void, signal);
        made = true;
      }
      for (let i = 0; i < names.length; i += MAXWELEM) {
        if (i > 0 && signal?.aborted) throw new AbortError(signal.reason);
        const wname = names.slice(i, i + MAXWELEM);
        let wqid: Qid[];
        try {
          const r = await client.call({ type: MsgType.Twalk, tag: 0, fid: made ? newfid : this.fid, newfid, wname }, Ret.Msg, signal);
          wqid = r.wqid;
        } catch (err) {
          if (err instanceof NinepError && !(err instanceof AbortError) && err.errno !== Errno.ECONNRESET) {
            throw new WalkError(names, i, err.errno, err.ename);
          }
          throw err;
        }
        if (wqid.length < wname.length) throw new WalkError(names, i + wqid.length);
        made = true;
        qid = wqid[wqid.length - 1]!;
      }
    } catch (err) {
      if (made) await client.call({ type: MsgType.Tclunk, tag: 0, fid: newfid }, Ret.Void, undefined).catch(noop);
      if (!client.closed) client.releaseFid(newfid);
      throw err;
    }
    return new Fid(client, newfid, qid, this.sub(names));
  }

  /** Records an Ropen/Rcreate/Rlopen/Rlcreate: this Fid is open on that qid with that iounit. */
  private isOpen(r: { qid: Qid; iounit: number }): this {
    this.qid = r.qid;
    this.iounit = r.iounit;
    this.opened = true;
    return this;
  }

  /** A new Fid for the same file (Twalk with no names). */
  clone(opts?: CallOptions): Promise<Fid> {
    return this.walk([], opts);
  }

  /** Topen with a 9P2000 mode (OREAD, OWRITE, ORDWR, OEXEC, | OTRUNC, ORCLOSE). */
  async open(mode: number, opts?: CallOptions): Promise<this> {
    if (this.dead) return gone(this);
    const r = await this.client.call({ type: MsgType.Topen, tag: 0, fid: this.fid, mode }, Ret.Msg, opts?.signal);
    return this.isOpen(r);
  }

  /**
   * Tcreate: creates `name` in this directory with `perm` (DM* bits | permissions) and opens it
   * with `mode`; as in the protocol, this Fid then is the new file. `extension` is .u's
   * (symlink target, device "b 1 2").
   */
  async create(name: string, perm: number, mode: number, opts?: CallOptions & { extension?: string }): Promise<this> {
    if (this.dead) return gone(this);
    const r = await this.client.call(
      { type: MsgType.Tcreate, tag: 0, fid: this.fid, name, perm, mode, extension: opts?.extension ?? '' },
      Ret.Msg, opts?.signal,
    );
    this.path = this.sub([name]);
    return this.isOpen(r);
  }

  /**
   * Tread: at most `count` bytes at `offset` (count is capped at `ioSize`). Resolves with the
   * data as received — a view into the reply frame (a copy where the transport would reuse that
   * memory: shared memory, `lendFrames`; `readRef` avoids it); empty at end of file.
   */
  read(offset: number, count: number, opts?: CallOptions): Promise<Buffer> {
    if (this.dead) return gone(this);
    const max = this.ioSize;
    return this.client.call(
      { type: MsgType.Tread, tag: 0, fid: this.fid, offset, count: count < max ? count : max },
      Ret.Data, opts?.signal,
    );
  }

  /**
   * Twrite: one request with at most `ioSize` bytes of `data` at `offset` (the Buffer goes to the
   * Conn as is, never copied). Resolves with the count the server wrote, which may be less than
   * `data.length`: `writeAll` writes everything.
   */
  write(offset: number, data: Buffer, opts?: CallOptions): Promise<number> {
    if (this.dead) return gone(this);
    const max = this.ioSize;
    return this.client.call(
      { type: TWRITE, tag: 0, fid: this.fid, offset, data: data.length <= max ? data : data.subarray(0, max) },
      Ret.Count, opts?.signal,
    );
  }

  /**
   * Tread like `read`, without the copy where the transport can avoid it: on a shared-memory
   * channel a reply of 2 KiB or more arrives in a payload slot, and `data` is a view of it.
   * Call `release()` once done with `data` (after it, `data` must not be read); until then the
   * server cannot reuse that slot (with all slots held it falls back to copying). Elsewhere
   * `data` is what `read` gives and `release` does nothing. Calling it twice is harmless.
   */
  readRef(offset: number, count: number, opts?: CallOptions): Promise<DataRef> {
    if (this.dead) return gone(this);
    const max = this.ioSize;
    return this.client.call(
      { type: MsgType.Tread, tag: 0, fid: this.fid, offset, count: count < max ? count : max },
      Ret.DataRef, opts?.signal,
    );
  }

  /**
   * Twrite of `n` bytes (capped at `ioSize`) that the caller writes in place: `fill(buf)` gets a
   * Buffer of that many bytes, fills it and returns; then the Twrite goes out with it. On a
   * shared-memory channel with a free payload slot `buf` lies in that slot and the server reads
   * it there: the payload is never copied. Elsewhere `buf` is an ordinary Buffer, sent as
   * `write` sends one. `buf` belongs to the transport once `fill` returns. A throw from `fill`
   * rejects the call and nothing is sent. Resolves with the count written.
   */
  writeInPlace(offset: number, n: number, fill: (buf: Buffer) => void, opts?: CallOptions): Promise<number> {
    if (this.dead) return gone(this);
    if (opts?.signal?.aborted) return Promise.reject(new AbortError(opts.signal.reason));
    const max = this.ioSize;
    const count = n < max ? n : max;
    const conn = this.client.conn;
    const buf = (count > 0 ? conn.reserve?.(count) : undefined) ?? Buffer.allocUnsafe(count);
    try {
      fill(buf);
    } catch (err) {
      conn.unreserve?.(buf);
      return Promise.reject(err);
    }
    return this.client.call({ type: MsgType.Twrite, tag: 0, fid: this.fid, offset, data: buf }, Ret.Count, opts?.signal);
  }

  /** Reads from `offset` (default 0) to end of file with `window` requests in flight. */
  readAll(opts?: ReadAllOptions): Promise<Buffer> {
    if (this.dead) return gone(this);
    return readAll(this, opts);
  }

  /** Writes all of `data` at `offset` (default 0) in ioSize pieces, `window` in flight. */
  writeAll(data: Buffer, opts?: WriteAllOptions): Promise<number> {
    if (this.dead) return gone(this);
    return writeAll(this, data, opts);
  }

  /** Tstat (9P2000/.u). */
  async stat(opts?: CallOptions): Promise<Dir> {
    if (this.dead) return gone(this);
    const r = await this.client.call({ type: MsgType.Tstat, tag: 0, fid: this.fid }, Ret.Msg, opts?.signal);
    return r.stat;
  }

  /** Twstat (9P2000/.u) of the fields given; the rest are sent as "don't touch". */
  wstat(changes: Partial<Dir>, opts?: CallOptions): Promise<void> {
    if (this.dead) return gone(this);
    const stat = { ...nullDir(), ...changes };
    return this.client.call({ type: MsgType.Twstat, tag: 0, fid: this.fid, stat }, Ret.Void, opts?.signal);
  }

  /**
   * Tclunk. The fid is gone afterwards even if the server answers an error (which still rejects);
   * its number is reused once the reply is in. Clunking a clunked Fid does nothing.
   */
  async clunk(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    try {
      await this.client.call({ type: MsgType.Tclunk, tag: 0, fid: this.fid }, Ret.Void, undefined);
    } finally {
      if (!this.client.closed) this.client.releaseFid(this.fid);
    }
  }

  /** Tremove: removes the file and clunks the fid (gone even when the remove fails). */
  async remove(): Promise<void> {
    if (this.dead) return gone(this);
    this.dead = true;
    try {
      await this.client.call({ type: MsgType.Tremove, tag: 0, fid: this.fid }, Ret.Void, undefined);
    } finally {
      if (!this.client.closed) this.client.releaseFid(this.fid);
    }
  }

  // 9P2000.L

  /** Tlopen with Linux open flags (L_O_RDONLY, L_O_WRONLY, L_O_RDWR, | L_O_TRUNC, ...). */
  async lopen(flags: number, opts?: CallOptions): Promise<this> {
    if (this.dead) return gone(this);
    const r = await this.client.call({ type: MsgType.Tlopen, tag: 0, fid: this.fid, flags }, Ret.Msg, opts?.signal);
    return this.isOpen(r);
  }

  /**
   * Tlcreate: creates and opens `name` in this directory with Linux `flags` and `mode`; as in
   * the protocol, this Fid then is the new file.
   */
  async lcreate(name: string, flags: number, mode: number, opts?: GidOptions): Promise<this> {
    if (this.dead) return gone(this);
    const r = await this.client.call(
      { type: MsgType.Tlcreate, tag: 0, fid: this.fid, name, flags, mode, gid: opts?.gid ?? this.client.gid },
      Ret.Msg, opts?.signal,
    );
    this.path = this.sub([name]);
    return this.isOpen(r);
  }

  /** Tgetattr of the fields in `mask` (default GETATTR_BASIC); `valid` says which came back. */
  async getattr(mask: number = GETATTR_BASIC, opts?: CallOptions): Promise<Attr> {
    if (this.dead) return gone(this);
    return this.client.call({ type: MsgType.Tgetattr, tag: 0, fid: this.fid, requestMask: mask }, Ret.Msg, opts?.signal);
  }

  /**
   * Tsetattr of the fields given: `{ size: 0 }` truncates, `{ mode: 0o600 }` chmods,
   * `{ mtime: new Date(...) }` sets a time, `{ atime: 'now' }` sets it to the server's clock.
   */
  setattr(changes: SetattrChanges, opts?: CallOptions): Promise<void> {
    if (this.dead) return gone(this);
    let valid = 0;
    if (changes.mode !== undefined) valid |= SETATTR_MODE;
    if (changes.uid !== undefined) valid |= SETATTR_UID;
    if (changes.gid !== undefined) valid |= SETATTR_GID;
    if (changes.size !== undefined) valid |= SETATTR_SIZE;
    if (changes.atime !== undefined) valid |= SETATTR_ATIME | (changes.atime === 'now' ? 0 : SETATTR_ATIME_SET);
    if (changes.mtime !== undefined) valid |= SETATTR_MTIME | (changes.mtime === 'now' ? 0 : SETATTR_MTIME_SET);
    if (changes.ctime) valid |= SETATTR_CTIME;
    const a = timeParts(changes.atime ?? 'now');
    const m = timeParts(changes.mtime ?? 'now');
    return this.client.call({
      type: MsgType.Tsetattr, tag: 0, fid: this.fid, valid, mode: changes.mode ?? 0, uid: changes.uid ?? 0,
      gid: changes.gid ?? 0, size: changes.size ?? 0, atimeSec: a.sec, atimeNsec: a.nsec, mtimeSec: m.sec, mtimeNsec: m.nsec,
    }, Ret.Void, opts?.signal);
  }

  /**
   * Treaddir on this open directory: the entries from cookie `offset` (0 to start; then the last
   * entry's `cookie ?? offset`, as `nextCookie` gives) that fit in `count` bytes (default
   * ioSize). Empty at the end. Cookies above 2^53 (ext4's) must be passed as the bigint.
   */
  async readdir(offset: number | bigint = 0, count?: number, opts?: CallOptions): Promise<Dirent[]> {
    if (this.dead) return gone(this);
    const n = Math.min(count ?? this.ioSize, this.ioSize);
    const t = typeof offset === 'bigint'
      ? { type: MsgType.Treaddir, tag: 0, fid: this.fid, offset: Number(offset), count: n, cookie: offset } as const
      : { type: MsgType.Treaddir, tag: 0, fid: this.fid, offset, count: n } as const;
    const data: Buffer = await this.client.call(t, Ret.Data, opts?.signal);
    return unpackDirents(data);
  }

  /**
   * Every entry of this open directory (.L), "." and ".." included, by successive Treaddirs of
   * `count` bytes (default ioSize).
   */
  async readdirAll(opts?: CallOptions & { count?: number }): Promise<Dirent[]> {
    const count = opts?.count;
    const out: Dirent[] = [];
    let offset: number | bigint = 0;
    for (;;) {
      const ents = await this.readdir(offset, count, opts);
      if (ents.length === 0) return out;
      for (const e of ents) out.push(e);
      offset = nextCookie(ents);
    }
  }

  /** Every stat record of this open directory (9P2000/.u), by successive Treads. */
  async readDirs(opts?: CallOptions): Promise<Dir[]> {
    const out: Dir[] = [];
    let offset = 0;
    for (;;) {
      const data = await this.read(offset, this.ioSize, opts);
      if (data.length === 0) return out;
      for (const d of unpackDirs(data, this.client.dialect)) out.push(d);
      offset += data.length;
    }
  }

  /**
   * The entries of directory `path` under this Fid (default: this one), without "." and "..":
   * walks a new fid, opens it, reads it whole (Treaddir on .L, stat records otherwise), clunks.
   */
  async list(path: string | readonly string[] = '', opts?: CallOptions): Promise<DirEntry[]> {
    const d = await this.walk(path, opts);
    try {
      await d.openFor('r', opts);
      if (this.client.dialect === '9P2000.L') {
        const ents = await d.readdirAll(opts);
        return ents.filter((e) => e.name !== '.' && e.name !== '..').map((e) => ({ name: e.name, qid: e.qid, type: e.type }));
      }
      const dirs = await d.readDirs(opts);
      return dirs.map((s) => ({ name: s.name, qid: s.qid, stat: s }));
    } finally {
      await d.clunk().catch(noop);
    }
  }

  /** Tmkdir in this directory; resolves with the new directory's qid. */
  mkdir(name: string, mode = 0o755, opts?: GidOptions): Promise<Qid> {
    if (this.dead) return gone(this);
    return this.client.call(
      { type: MsgType.Tmkdir, tag: 0, dfid: this.fid, name, mode, gid: opts?.gid ?? this.client.gid },
      Ret.Qid, opts?.signal,
    );
  }

  /** Tsymlink: makes `name` in this directory point at `target`. */
  symlink(name: string, target: string, opts?: GidOptions): Promise<Qid> {
    if (this.dead) return gone(this);
    return this.client.call(
      { type: MsgType.Tsymlink, tag: 0, fid: this.fid, name, symtgt: target, gid: opts?.gid ?? this.client.gid },
      Ret.Qid, opts?.signal,
    );
  }

  /** Treadlink: the target of this symlink. */
  async readlink(opts?: CallOptions): Promise<string> {
    if (this.dead) return gone(this);
    const r = await this.client.call({ type: MsgType.Treadlink, tag: 0, fid: this.fid }, Ret.Msg, opts?.signal);
    return r.target;
  }

  /** Tlink: a hard link `name` in this directory to the file of `target`. */
  link(target: Fid, name: string, opts?: CallOptions): Promise<void> {
    if (this.dead) return gone(this);
    return this.client.call({ type: MsgType.Tlink, tag: 0, dfid: this.fid, fid: target.fid, name }, Ret.Void, opts?.signal);
  }

  /** Tmknod in this directory: `mode` carries the file type (S_IFIFO, S_IFCHR, ...). */
  mknod(name: string, mode: number, major = 0, minor = 0, opts?: GidOptions): Promise<Qid> {
    if (this.dead) return gone(this);
    return this.client.call(
      { type: MsgType.Tmknod, tag: 0, dfid: this.fid, name, mode, major, minor, gid: opts?.gid ?? this.client.gid },
      Ret.Qid, opts?.signal,
    );
  }

  /**
   * Trename: moves this file to `name` in directory `dir`. Use a fid that is not open: diod
   * 1.0.24 aborts (assertion in ioctx.c) when asked to rename an open one.
   */
  async rename(dir: Fid, name: string, opts?: CallOptions): Promise<void> {
    if (this.dead) return gone(this);
    await this.client.call({ type: MsgType.Trename, tag: 0, fid: this.fid, dfid: dir.fid, name }, Ret.Void, opts?.signal);
    this.path = dir.sub([name]);
  }

  /**
   * Trenameat: renames `oldname` in this directory to `newname` in `newdir`. A server without
   * it (EOPNOTSUPP/ENOSYS, as diod) gets what Linux v9fs sends instead: walk to `oldname`,
   * Trename, clunk; the client remembers and goes straight there next time.
   */
  async renameat(oldname: string, newdir: Fid, newname: string, opts?: CallOptions): Promise<void> {
    if (this.dead) return gone(this);
    if (!this.client.noRenameat) {
      try {
        return await this.client.call(
          { type: MsgType.Trenameat, tag: 0, olddirfid: this.fid, oldname, newdirfid: newdir.fid, newname },
          Ret.Void, opts?.signal,
        );
      } catch (err) {
        if (!isUnsupported(err)) throw err;
        this.client.noRenameat = true;
      }
    }
    const f = await this.walk([oldname], opts);
    try {
      await f.rename(newdir, newname, opts);
    } finally {
      await f.clunk().catch(noop);
    }
  }

  /**
   * Tunlinkat: removes `name` from this directory (`flags` AT_REMOVEDIR for a directory). A
   * server without it (EOPNOTSUPP/ENOSYS, as diod) gets walk + Tremove instead, checking the
   * file type against AT_REMOVEDIR first (EISDIR / ENOTDIR as unlinkat(2) would).
   */
  async unlinkat(name: string, flags = 0, opts?: CallOptions): Promise<void> {
    if (this.dead) return gone(this);
    if (!this.client.noUnlinkat) {
      try {
        return await this.client.call({ type: MsgType.Tunlinkat, tag: 0, dirfd: this.fid, name, flags }, Ret.Void, opts?.signal);
      } catch (err) {
        if (!isUnsupported(err)) throw err;
        this.client.noUnlinkat = true;
      }
    }
    const f = await this.walk([name], opts);
    const wantDir = (flags & AT_REMOVEDIR) !== 0;
    if (f.isDir !== wantDir) {
      await f.clunk().catch(noop);
      throw NinepError.errno(wantDir ? Errno.ENOTDIR : Errno.EISDIR, this.sub([name]));
    }
    await f.remove();
  }

  /** Tstatfs of the file system holding this file. */
  async statfs(opts?: CallOptions): Promise<Statfs> {
    if (this.dead) return gone(this);
    const r = await this.client.call({ type: MsgType.Tstatfs, tag: 0, fid: this.fid }, Ret.Msg, opts?.signal);
    const { type: _t, tag: _g, ...fs } = r as Rstatfs;
    return fs;
  }

  /** Tfsync of this open file (`datasync`: only the data, as fdatasync(2)). */
  fsync(datasync = false, opts?: CallOptions): Promise<void> {
    if (this.dead) return gone(this);
    return this.client.call({ type: MsgType.Tfsync, tag: 0, fid: this.fid, datasync: datasync ? 1 : 0 }, Ret.Void, opts?.signal);
  }

  /** Tlock on this open file; resolves with the status (LOCK_SUCCESS, LOCK_BLOCKED, ...). */
  async lock(opts: LockOptions = {}): Promise<number> {
    if (this.dead) return gone(this);
    const r = await this.client.call({
      type: MsgType.Tlock, tag: 0, fid: this.fid, lockType: opts.lockType ?? LOCK_TYPE_WRLCK, flags: opts.flags ?? 0,
      start: opts.start ?? 0, length: opts.length ?? 0, procId: opts.procId ?? process.pid, clientId: opts.clientId ?? os.hostname(),
    }, Ret.Msg, opts.signal);
    return r.status;
  }

  /** Tgetlock: whether the lock described could be taken (lockType LOCK_TYPE_UNLCK) or who holds one. */
  async getlock(opts: LockOptions = {}): Promise<LockInfo> {
    if (this.dead) return gone(this);
    const r = await this.client.call({
      type: MsgType.Tgetlock, tag: 0, fid: this.fid, lockType: opts.lockType ?? LOCK_TYPE_WRLCK, start: opts.start ?? 0,
      length: opts.length ?? 0, procId: opts.procId ?? process.pid, clientId: opts.clientId ?? os.hostname(),
    }, Ret.Msg, opts.signal);
    return { lockType: r.lockType, start: r.start, length: r.length, procId: r.procId, clientId: r.clientId };
  }

  /**
   * Txattrwalk: a new Fid to read extended attribute `name` from (`size` bytes; name "" lists
   * the attribute names, NUL-terminated).
   */
  async xattrwalk(name: string, opts?: CallOptions): Promise<{ fid: Fid; size: number }> {
    if (this.dead) return gone(this);
    const newfid = this.client.allocFid();
    try {
      const r = await this.client.call({ type: MsgType.Txattrwalk, tag: 0, fid: this.fid, newfid, name }, Ret.Msg, opts?.signal);
      const f = new Fid(this.client, newfid, this.qid, this.path);
      f.opened = true;
      return { fid: f, size: r.size };
    } catch (err) {
      if (!this.client.closed) this.client.releaseFid(newfid);
      throw err;
    }
  }

  /**
   * Txattrcreate: this Fid becomes the writer of attribute `name` of `size` bytes (`flags`:
   * XATTR_CREATE 1 / XATTR_REPLACE 2); write the value, then clunk to set it.
   */
  async xattrcreate(name: string, size: number, flags = 0, opts?: CallOptions): Promise<this> {
    if (this.dead) return gone(this);
    await this.client.call({ type: MsgType.Txattrcreate, tag: 0, fid: this.fid, name, attrSize: size, flags }, Ret.Void, opts?.signal);
    this.opened = true;
    return this;
  }

  /** The value of extended attribute `name` (xattrwalk, read, clunk). */
  async getxattr(name: string, opts?: CallOptions): Promise<Buffer> {
    const { fid, size } = await this.xattrwalk(name, opts);
    try {
      return size === 0 ? Buffer.alloc(0) : await fid.readAll({ ...opts, length: size });
    } finally {
      await fid.clunk().catch(noop);
    }
  }

  /** The extended attribute names of this file. */
  async listxattr(opts?: CallOptions): Promise<string[]> {
    const names = await this.getxattr('', opts);
    return names.toString('utf8').split('\0').filter(Boolean);
  }

  /** Sets extended attribute `name` (clone, xattrcreate, write, clunk: the clunk's error is the set's). */
  async setxattr(name: string, value: Buffer | string, flags = 0, opts?: CallOptions): Promise<void> {
    const data = typeof value === 'string' ? Buffer.from(value) : value;
    const f = await this.clone(opts);
    try {
      await f.xattrcreate(name, data.length, flags, opts);
      if (data.length > 0) await f.writeAll(data, opts);
    } catch (err) {
      await f.clunk().catch(noop);
      throw err;
    }
    await f.clunk();
  }

  // Path helpers

  /** Opens this fid, 'r' read-only or 'w' write-only and truncated: Tlopen on .L, Topen otherwise. */
  openFor(how: 'r' | 'w', opts?: CallOptions): Promise<this> {
    if (this.client.dialect === '9P2000.L') return this.lopen(how === 'r' ? L_O_RDONLY : L_O_WRONLY | L_O_TRUNC, opts);
    return this.open(how === 'r' ? OREAD : OWRITE | OTRUNC, opts);
  }

  /**
   * A new open Fid for file `path` under this directory. 'r' opens for reading; 'w' truncates
   * an existing file or creates a missing one (with `mode`, default 0o644) and opens it for writing.
   */
  async openFile(path: string | readonly string[], how: 'r' | 'w', opts?: CallOptions & { mode?: number }): Promise<Fid> {
    const names = typeof path === 'string' ? splitPath(path) : path;
    let f: Fid;
    try {
      f = await this.walk(names, opts);
    } catch (err) {
      if (how === 'r' || !(err instanceof WalkError) || err.errno !== Errno.ENOENT || err.walked !== names.length - 1) throw err;
      const dir = await this.walk(names.slice(0, -1), opts);
      try {
        const name = names[names.length - 1]!;
        const mode = opts?.mode ?? 0o644;
        if (this.client.dialect === '9P2000.L') await dir.lcreate(name, L_O_WRONLY | L_O_CREAT | L_O_TRUNC, mode, opts);
        else await dir.create(name, mode, OWRITE, opts);
      } catch (e) {
        await dir.clunk().catch(noop);
        throw e;
      }
      return dir;
    }
    try {
      return await f.openFor(how, opts);
    } catch (err) {
      await f.clunk().catch(noop);
      throw err;
    }
  }

  /** The whole file at `path` under this directory, read with `window` requests in flight. */
  async readFile(path: string | readonly string[], opts?: ReadFileOptions): Promise<Buffer> {
    const f = await this.openFile(path, 'r', opts);
    try {
      return await f.readAll(opts);
    } finally {
      await f.clunk().catch(noop);
    }
  }

  /**
   * Writes `data` as the whole file at `path` under this directory (created with `mode` when
   * missing, else truncated), in ioSize pieces with `window` requests in flight.
   */
  async writeFile(path: string | readonly string[], data: Uint8Array | string, opts?: WriteFileOptions): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const f = await this.openFile(path, 'w', opts);
    try {
      await f.writeAll(buf, opts);
    } catch (err) {
      await f.clunk().catch(noop);
      throw err;
    }
    await f.clunk();
  }

  /** A Readable of this open fid from `start`, `window` reads in flight, paced by the consumer. */
  createReadStream(opts?: ReadStreamOptions): FidReadStream {
    return new FidReadStream(this, opts);
  }

  /** A Writable to this open fid from `start`, `window` writes in flight; backpressure when full. */
  createWriteStream(opts?: WriteStreamOptions): FidWriteStream {
    return new FidWriteStream(this, opts);
  }
}

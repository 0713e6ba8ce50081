/**
 * The callback table of a 9P file server, after lib9p's `Srv`: every entry is optional and has a
 * documented default. The framework (session.ts and the op modules) has already done the
 * protocol bookkeeping when a callback runs: the fids it receives exist, are of the right kind
 * and are held for the duration of the call; the checks named in each doc comment are done.
 * A callback answers by returning (or resolving to) its result, or fails by throwing a
 * NinepError (or a Node system error, which maps by its `code`). Anything else thrown is an
 * unexpected error: the client sees "i/o error"/EIO and the stack goes to the log.
 *
 * Every callback receives the request as its last argument: `req.signal` fires when the client
 * flushes the request (flush(5)) or the session ends; long waits should honour it.
 */
import type { Attr, Body, Dir, Dirent, NinepError, Qid, SetAttr, MsgType } from '@prose/protocol';
import type { Fid } from './fid.js';
import type { Req } from './req.js';

/** A value or a promise of it: callbacks may answer synchronously (faster) or asynchronously. */
export type Awaitable<T> = T | PromiseLike<T>;

/** The arguments of a Tlock/Tgetlock, as the server sees them. */
export interface LockArgs {
  lockType: number;
  start: number;
  length: number;
  procId: number;
  clientId: string;
}

/**
 * The callbacks of a server (lib9p Srv). A is the type of per-fid state (`Fid.aux`). Each
 * callback's doc says what the framework has checked before calling it and what happens when
 * it is absent.
 */
export interface Srv<A = unknown> {
  /**
   * Set to false when the server checks permissions itself (for example a POSIX export where the
   * kernel decides). Otherwise, before `open` and `create` the framework calls `stat` (when
   * present) and checks the open mode against the file's owner/group/other bits for the fid's
   * uname, and adjusts the permissions of a created file by the directory's (open(5)).
   */
  checkPerm?: boolean;

  /**
   * Tauth. `afid` is new (its number was unused) with a QTAUTH qid; set `afid.aux` and return
   * the aqid. The afid is then open for reading and writing: the authentication protocol runs as
   * `read`/`write` calls on it (tell them apart by `fid.qid.type & QTAUTH`).
   * Absent: "authentication not required".
   */
  auth?(afid: Fid<A>, req: Req): Awaitable<Qid>;

  /**
   * Tattach. `fid` is new (unused number checked), carries `uname`; `afid` is the auth fid when
   * the client gave one (it exists and is a QTAUTH fid: decide whether its protocol succeeded).
   * Select the tree by `req.ifcall.aname`, set `fid.aux`, return the root's qid.
   * Absent: aname "" attaches to a directory with qid path 0; any other aname is refused.
   */
  attach?(fid: Fid<A>, afid: Fid<A> | undefined, req: Req): Awaitable<Qid>;

  /**
   * A walk is about to start from `fid` into `newfid` (a new Fid object whose qid is fid's).
   * Copy or share the per-fid state. Absent: `newfid.aux = fid.aux`.
   */
  clone?(fid: Fid<A>, newfid: Fid<A>, req: Req): Awaitable<void>;

  /**
   * Walks `fid` (a directory, checked) one step to `name` (never empty, never containing "/"),
   * updating `fid.aux`; returns the new qid (the framework stores it in `fid.qid`). ".." at the
   * root should stay at the root. Throw to stop the walk, or return the NinepError (the same,
   * without the 1-5 µs a throw costs: worth it where names are often missing): at the first
   * name the client gets the error, later it gets the qids walked so far and newfid is not
   * created (walk(5)).
   * Absent (and no `walk`): every walk of one or more names fails with "file not found".
   */
  walk1?(fid: Fid<A>, name: string, req: Req): Awaitable<Qid | NinepError>;

  /**
   * The whole walk at once, instead of `clone`+`walk1`: walk `newfid` (already a clone of fid)
   * through `names` (1..MAXWELEM valid names) and return one qid per name walked; fewer qids
   * mean the walk stopped there. The framework applies the same rules as for walk1.
   */
  walk?(fid: Fid<A>, newfid: Fid<A>, names: readonly string[], req: Req): Awaitable<Qid[]>;

  /**
   * Topen (and Tlopen when `lopen` is absent). Checked: fid exists and is not open; a directory
   * is opened only for reading (OREAD, maybe ORCLOSE); permission (see `checkPerm`). Honour
   * OTRUNC. Return a new qid if opening changed it. The framework then marks the fid open
   * (`fid.omode`), remembers ORCLOSE (the fid's file is removed through `remove` when clunked)
   * and answers iounit = msize - IOHDRSZ. Absent: the open succeeds with no action.
   */
  open?(fid: Fid<A>, mode: number, req: Req): Awaitable<Qid | void>;

  /**
   * Tcreate. Checked: fid exists, is a directory, is not open; `name` is not "", "." or ".."
   * and has no "/"; a directory is created only with mode OREAD; write permission on the
   * directory and the perm adjusted by it (see `checkPerm`). Create the file, make `fid` refer
   * to it (update `fid.aux`), open it with `mode`, and return its qid. `extension` is the .u
   * field ("" otherwise). Absent: "create prohibited".
   */
  create?(fid: Fid<A>, name: string, perm: number, mode: number, extension: string, req: Req): Awaitable<Qid>;

  /**
   * Tread on a file (directories are read through `dirgen`). Checked: fid open for reading
   * (OREAD, ORDWR or OEXEC); `count` already clamped to the iounit. Return at most `count`
   * bytes at `offset` (a longer Buffer is cut, not copied); an empty Buffer is end of file.
   * Absent: "read prohibited".
   */
  read?(fid: Fid<A>, offset: number, count: number, req: Req): Awaitable<Buffer>;

  /**
   * Twrite. Checked: fid open for writing (OWRITE or ORDWR); the payload fits the msize.
   * `data` is a view into the received frame, valid until this call returns or its promise
   * settles: copy what you keep past that (a server listening with `lendFrames`, or on shared
   * memory, reuses the bytes for a later frame once the write is over; `req.dataLent` says
   * whether this one is). Return the count written
   * (void means all of it). Absent: "write prohibited".
   */
  write?(fid: Fid<A>, offset: number, data: Buffer, req: Req): Awaitable<number | void>;

  /**
   * Tremove (and an ORCLOSE fid being clunked). The fid has already left the session's table:
   * it is gone whatever happens here (remove(5)). Check permission (write in the parent).
   * Absent: "remove prohibited".
   */
  remove?(fid: Fid<A>, req: Req): Awaitable<void>;

  /** Tstat (and Tgetattr when `getattr` is absent). Absent: "stat prohibited". */
  stat?(fid: Fid<A>, req: Req): Awaitable<Dir>;

  /**
   * Twstat (and Tsetattr when `setattr` is absent). Checked (lib9p): type, dev, qid and muid
   * are "don't touch"; the DMDIR bit is unchanged; a new name has no "/" and is not "." or "..".
   * Apply all changes or none. Absent: "wstat prohibited".
   */
  wstat?(fid: Fid<A>, dir: Dir, req: Req): Awaitable<void>;

  /**
   * The `index`-th entry of the open directory `fid`, or null/undefined past the last one
   * (lib9p dirgen). The framework packs whole stat records into 9P2000/.u directory reads,
   * enforces the offset rule (0 or where the last read ended) and answers .L Treaddir from it
   * (cookie = index + 1) when `readdir` is absent. Index 0 starts a new listing.
   * Absent: directory reads go to `read`, after the offset check.
   */
  dirgen?(fid: Fid<A>, index: number, req: Req): Awaitable<Dir | null | undefined>;

  /**
   * The fid is gone for good (Tclunk, Tremove, Tversion, hang-up, a walk that did not complete,
   * or a newfid==fid walk that replaced it) and no request holds it any more: release
   * `fid.aux`. Called once per Fid object. With the default `clone`, aux is shared between a fid
   * and the fids walked from it. Errors are logged.
   */
  destroyfid?(fid: Fid<A>): Awaitable<void>;

  // ---- 9P2000.L ------------------------------------------------------------------------

  /** Tstatfs. Absent: zeros with type V9FS_MAGIC, bsize 4096, namelen 255. */
  statfs?(fid: Fid<A>, req: Req): Awaitable<Body<MsgType.Rstatfs>>;

  /**
   * Tlopen with Linux open flags (not the host's). Checked: fid exists and is not open; a
   * directory is opened read-only without O_TRUNC. No permission check (the server's).
   * Absent: mapped to `open` with the equivalent Plan 9 mode (permission checked as for Topen).
   */
  lopen?(fid: Fid<A>, flags: number, req: Req): Awaitable<Qid | void>;

  /**
   * Tlcreate: create `name` in directory `fid` and make fid the new open file. Checked as for
   * `create`. Absent: mapped to `create` with perm = mode & 0777 and the equivalent open mode.
   */
  lcreate?(fid: Fid<A>, name: string, flags: number, mode: number, gid: number, req: Req): Awaitable<Qid>;

  /** Tsymlink in directory `dir` (checked: a directory; valid name). Absent: EOPNOTSUPP. */
  symlink?(dir: Fid<A>, name: string, target: string, gid: number, req: Req): Awaitable<Qid>;

  /** Tmknod in directory `dir` (checked: a directory; valid name). Absent: EOPNOTSUPP. */
  mknod?(dir: Fid<A>, name: string, mode: number, major: number, minor: number, gid: number, req: Req): Awaitable<Qid>;

  /**
   * Trename `fid` into directory `dir` as `name` (checked: dir is a directory; valid name).
   * Absent: when fid is in dir (dir/<its stat name> walks to its qid), a `wstat` of the name;
   * otherwise EXDEV.
   */
  rename?(fid: Fid<A>, dir: Fid<A>, name: string, req: Req): Awaitable<void>;

  /** Treadlink. Absent: EOPNOTSUPP. */
  readlink?(fid: Fid<A>, req: Req): Awaitable<string>;

  /** Tgetattr. Absent: derived from `stat` (mode, size, times, qid; uid/gid from the .u numbers). */
  getattr?(fid: Fid<A>, requestMask: number, req: Req): Awaitable<Attr>;

  /**
   * Tsetattr. Absent: mapped to `wstat` (mode, size, atime, mtime; chown is refused with EPERM).
   */
  setattr?(fid: Fid<A>, attr: SetAttr, req: Req): Awaitable<void>;

  /**
   * Txattrwalk: `newfid` (new, unused number checked) is to read the attribute `name` of fid
   * ("" lists them); return its size. The framework makes newfid open for reading. Absent: EOPNOTSUPP.
   */
  xattrwalk?(fid: Fid<A>, newfid: Fid<A>, name: string, req: Req): Awaitable<number>;

  /** Txattrcreate: fid becomes open for writing the attribute. Absent: EOPNOTSUPP. */
  xattrcreate?(fid: Fid<A>, name: string, size: number, flags: number, req: Req): Awaitable<void>;

  /**
   * Treaddir. Checked: fid is an open directory; count clamped to the iounit. Return entries
   * starting after cookie `offset` (0 = the start; above 2^53 the exact value is
   * `req.ifcall.cookie`, and entries carry theirs in `Dirent.cookie`); the framework packs the
   * whole entries that fit. Or return them already encoded: a Buffer of whole dirents made by
   * `@prose/protocol`'s `DirentList` (or `writeDirent`), sent as is (not copied: it must not
   * change afterwards) when it fits `count`, else cut after the last whole entry that fits.
   * Either way a count too small for the first entry is an error (EINVAL), and no entries is
   * the end of the directory.
   * Absent: answered from `dirgen`.
   */
  readdir?(fid: Fid<A>, offset: number, count: number, req: Req): Awaitable<Dirent[] | Buffer>;

  /** Tfsync. Absent: success. */
  fsync?(fid: Fid<A>, datasync: number, req: Req): Awaitable<void>;

  /** Tlock: return the status (LOCK_SUCCESS...). Absent: LOCK_SUCCESS (no locking). */
  lock?(fid: Fid<A>, flags: number, lock: LockArgs, req: Req): Awaitable<number>;

  /** Tgetlock: return the conflicting lock, or the request with type UNLCK. Absent: UNLCK. */
  getlock?(fid: Fid<A>, lock: LockArgs, req: Req): Awaitable<LockArgs>;

  /** Tlink `fid` into directory `dir` as `name` (checked: a directory; valid name). Absent: EOPNOTSUPP. */
  link?(dir: Fid<A>, fid: Fid<A>, name: string, req: Req): Awaitable<void>;

  /**
   * Tmkdir in directory `dir` (checked: a directory; valid name).
   * Absent: mapped to `create` with DMDIR|mode&0777 on a temporary clone of dir.
   */
  mkdir?(dir: Fid<A>, name: string, mode: number, gid: number, req: Req): Awaitable<Qid>;

  /**
   * Trenameat (checked: both are directories; valid names).
   * Absent: within one directory, a walk to oldname and a `wstat` of the name; otherwise EXDEV.
   */
  renameat?(olddir: Fid<A>, oldname: string, newdir: Fid<A>, newname: string, req: Req): Awaitable<void>;

  /**
   * Tunlinkat (checked: a directory; valid name).
   * Absent: a walk to name, the AT_REMOVEDIR check (EISDIR/ENOTDIR), then `remove`.
   */
  unlinkat?(dir: Fid<A>, name: string, flags: number, req: Req): Awaitable<void>;
}

/**
 * The storage export: a host directory served through the @prose/server `Srv` callbacks with
 * the full 9P2000.L operation set and the 9P2000/.u mappings (stat/wstat, create with perm and
 * .u extensions, directory reads of stat records).
 *
 * How it reaches files: see sandbox.ts (every fid holds an O_PATH descriptor, or the one its
 * create opened; names are looked
 * up one component at a time under a pinned directory; nothing is followed). Who it acts as:
 * see uidmap.ts. Locks: locks.ts. Directory listings: dirlist.ts.
 *
 * I/O model: metadata calls (walk, getattr, create, rename, ...) are synchronous system calls
 * — on a local file system they take microseconds, far less than a round trip through the
 * libuv thread pool on a small machine — unless `metadataIo` is 'pool' (network file systems);
 * big reads and writes, fsync and opens that may block (FIFOs, devices) go through the thread
 * pool (`UV_THREADPOOL_SIZE`, set by main), which bounds how many run at once. A Twrite is
 * answered only once write(2) has returned: the data is in the kernel, so killing the service
 * loses nothing acknowledged; Tfsync is fsync(2)/fdatasync(2). Reads go straight into the
 * Buffer the reply carries, or, when big and in memory, are a view of a mapping of the file
 * that only the socket write reads (mapread.ts). Extended attributes, getdents64 listings, big
 * writes in pieces and the mappings come from @prose/posix.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AT_REMOVEDIR, DMDEVICE, DMDIR, DMLINK, DMNAMEDPIPE, DMSETGID, DMSETUID, DMSOCKET, DMSYMLINK, Ename, Errno,
  L_O_ACCMODE, L_O_APPEND, L_O_CREAT, L_O_DIRECTORY, L_O_EXCL, L_O_RDONLY, L_O_RDWR, L_O_TRUNC, L_O_WRONLY,
  LOCK_SUCCESS, LOCK_TYPE_RDLCK, LOCK_TYPE_UNLCK, LOCK_TYPE_WRLCK, NinepError, OAPPEND, OEXEC, ORDWR, OTRUNC, OWRITE,
  SETATTR_ATIME, SETATTR_ATIME_SET, SETATTR_GID, SETATTR_MODE, SETATTR_MTIME, SETATTR_MTIME_SET, SETATTR_SIZE,
  SETATTR_UID, V9FS_MAGIC, isDontTouchLength, type Attr, type Body, type Dir, type MsgType, type Qid,
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, type SetAttr,
} from '@prose/protocol';
import {
  PosixError, XATTR_CREATE, XATTR_REPLACE, XATTR_SIZE_MAX, fgetxattr, fremovexattr, fromNodeStats, fsetxattr, fstat,
  getxattr, havePosix, listxattrRaw, lstatAt, pwritePieces, removexattr, setxattr, type HostStat,
} from '@prose/posix';
import type { Awaitable, Fid, LockArgs, Logger, Req, Srv } from '@prose/server';
import { Names, QidPaths, attrOf, dirOf, hostOpenFlags, qidOf } from './attrs.js';
import { DirCache, type Listing } from './dirlist.js';
import { LockTable, lengthOf, rangeOf } from './locks.js';
import { MappedReads } from './mapread.js';
import {
  Handle, HandleRegistry, O_DIRECTORY, O_NOFOLLOW, O_PATH, at, checkComponent, fileKey, mkdirIn, openIn, tryOpenIn,
  unlinkIn,
} from './sandbox.js';
import { MAY_EXEC, MAY_READ, MAY_WRITE, UidPolicy, isOwner, mayAccess, mayDelete, type Perm, type User } from './uidmap.js';

const S_ISGID = 0o2000;
const NOID = 0xffffffff;
const EMPTY = Buffer.alloc(0);
const NAME_MAX = 255;
const noop = (): void => {};

/** The thread-pool calls of metadataIo 'pool', as promises of plain descriptors and HostStats. */
const pooled = {
  open: (p: string, flags: number, mode?: number) =>
    new Promise<number>((resolve, reject) => fs.open(p, flags, mode, (e, fd) => (e ? reject(e) : resolve(fd)))),
  fstat: (fd: number) =>
    new Promise<HostStat>((resolve, reject) => fs.fstat(fd, { bigint: true }, (e, st) => (e ? reject(e) : resolve(fromNodeStats(st))))),
  done: (resolve: () => void, reject: (e: Error) => void) => (e: NodeJS.ErrnoException | null) => (e ? reject(e) : resolve()),
  unlink: (p: string) => new Promise<void>((resolve, reject) => fs.unlink(p, pooled.done(resolve, reject))),
  rmdir: (p: string) => new Promise<void>((resolve, reject) => fs.rmdir(p, pooled.done(resolve, reject))),
  mkdir: (p: string, mode: number) => new Promise<void>((resolve, reject) => fs.mkdir(p, mode, pooled.done(resolve, reject))),
  statfs: (p: string) => new Promise<fs.StatsFs>((resolve, reject) => fs.statfs(p, (e, st) => (e ? reject(e) : resolve(st)))),
};

export interface ExportOptions {
  /** The directory to export (resolved with realpath once, at start). */
  root: string;
  /** Refuse every change with EROFS. */
  readOnly?: boolean;
  /** Who clients act as (default: the service's user, `UidPolicy.service()`). */
  policy?: UidPolicy;
  /** Most directory entries kept by the listing cache (0 disables it). Default 200,000. */
  dirCacheEntries?: number;
  /**
   * Reads and writes of regular files up to this many bytes are synchronous system calls (a page
   * cache copy of a few KiB costs less than the thread-pool round trip); larger ones go through
   * the thread pool. 0 makes all I/O asynchronous. Default 64 KiB.
   */
  syncIoMax?: number;
  /**
   * Reads of regular files of at least this many bytes are served from a mapping of the file
   * where the connection allows it (mapread.ts): the socket write copies the data once, from
   * the page cache. 0 turns it off. Default 64 KiB; off under metadataIo 'pool'.
   */
  mapReadMin?: number;
  /**
   * Where metadata system calls run. 'sync' (default): on the event loop — a few microseconds
   * each on a local file system, against 15–30 µs for a thread-pool round trip on a small
   * machine. 'pool': the calls on every path (lookups in walks, getattr's fstat, opens and
   * creates, close, unlink and rmdir, mkdir, statfs) go through the libuv thread pool, so one
   * slow call on a network-backed export holds up only its own request; the rest stay
   * synchronous (see the README).
   */
  metadataIo?: 'sync' | 'pool';
  logger?: Logger;
}

/** What a fid of the export holds. */
export interface FidState {
  /** The file. */
  h: Handle;
  /** The mapped user (uid policy "map"); undefined under "service". */
  user: User | undefined;
  /** The open descriptor (Tlopen/Tlcreate/Topen/Tcreate of a file); -1 otherwise. */
  fd: number;
  /** The open flags (Linux values) once open. */
  lflags: number;
  /** An open directory's listing. */
  listing?: Listing;
  /** A descriptor of an open directory, made for Tfsync. */
  dirfd?: number;
  /** The value (or name list) an xattr fid reads (Txattrwalk). */
  xattr?: Buffer;
  /** The attribute being written (Txattrcreate). */
  xset?: XattrWriter;
  /** Lock owners that locked through this fid (released when it goes). */
  owners?: Set<string>;
  /** The slot of the mapped window big reads are served from (mapread.ts). */
  map?: number | null;
}

/** A Txattrcreate in progress: the value as it arrives. */
export interface XattrWriter {
  name: string;
  flags: number;
  value: Buffer;
  /** Bytes received so far. */
  got: number;
}

const XATTR_USER = 'user.';
const XATTR_TRUSTED = 'trusted.';

/**
 * The largest write(2) the export makes: one thread-pool job per big Twrite (@prose/posix
 * `pwritePieces`) writes it in calls of this size, so no single call holds the file's lock for
 * a whole megabyte. It was chosen from runs that made 1 MiB calls look 1.5–2.5× slower; those
 * wrote into pages the VM had never touched, and each first touch traps to the hypervisor. With
 * the pages recycled, 64 KiB, 256 KiB and 1 MiB calls cost the same (490–560 µs of service CPU
 * per MiB, 1 MiB Twrites, one CPU; see the README).
 */
const WRITE_PIECE_MAX = 64 * 1024;

/** Writes all of `data` at `offset` in calls of at most WRITE_PIECE_MAX, now; a short write ends it (the count says where). */
function writePieces(fd: number, data: Buffer, offset: number): number {
  let done = 0;
  while (done < data.length) {
    const len = Math.min(WRITE_PIECE_MAX, data.length - done);
    const n = fs.writeSync(fd, data, done, len, offset + done);
    done += n;
    if (n < len) break;
  }
  return done;
}

function err(errno: number, detail?: string): NinepError {
  return NinepError.errno(errno, detail);
}

function perm(st: HostStat): Perm {
  return { mode: st.mode, uid: st.uid, gid: st.gid };
}

/** lstat of `name` in directory `dirfd`, or undefined when there is no such entry. */
function lstatOrNull(dirfd: number, name: string): HostStat | undefined {
  try {
    return lstatAt(dirfd, name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * A time for fs.utimes, which takes seconds as a double and keeps microseconds (libuv truncates
 * to them): the microsecond plus half of one, so that rounding in the double cannot fall below it.
 */
function seconds(sec: number, nsec: number): number {
  return sec + (Math.floor(nsec / 1000) * 1000 + 500) / 1e9;
}

function nameCheck(name: string): void {
  checkComponent(name);
  if (Buffer.byteLength(name) > NAME_MAX) throw err(Errno.ENAMETOOLONG);
}

/** Linux open flags for a Plan 9 open mode (Topen/Tcreate). */
export function lflagsOfMode(mode: number): number {
  let f: number;
  switch (mode & 3) {
    case OWRITE: f = L_O_WRONLY; break;
    case ORDWR: f = L_O_RDWR; break;
    default: f = L_O_RDONLY; break;
  }
  if (mode & OTRUNC) f |= L_O_TRUNC;
  if (mode & OAPPEND) f |= L_O_APPEND;
  return f;
}

function runMkfifo(p: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mkfifo', ['-m', (mode & 0o7777).toString(8), '--', p], { timeout: 10000 }, (e, _out, stderr) => {
      if (e) reject(new NinepError(`mkfifo failed: ${String(stderr).trim() || e.message}`, Errno.EIO));
      else resolve();
    });
  });
}

/**
 * The export's Srv. One instance serves every session of a server; `close()` releases the root
 * descriptor once the server is down.
 */
export class StorageExport implements Srv<FidState> {
  readonly checkPerm = false;
  /** The exported directory, as resolved at start. */
  readonly rootPath: string;
  readonly readOnly: boolean;
  readonly policy: UidPolicy;
  readonly locks = new LockTable();
  readonly handles = new HandleRegistry();
  private readonly root: Handle;
  private readonly paths: QidPaths;
  private readonly names = new Names();
  private readonly dirs: DirCache;
  private readonly anames: Set<string>;
  private readonly logger: Logger | undefined;
  private readonly syncIoMax: number;
  /** Big reads from mappings (mapread.ts); undefined when off or impossible here. */
  private readonly maps: MappedReads | undefined;
  /** The @prose/posix addon is there: extended attributes are served, big writes go in pieces. */
  private readonly posix: boolean;
  /** Metadata calls go through the thread pool (option metadataIo 'pool'). */
  private readonly pool: boolean;

  constructor(opts: ExportOptions) {
    this.posix = havePosix();
    this.pool = opts.metadataIo === 'pool';
    this.syncIoMax = opts.syncIoMax ?? 64 * 1024;
    this.maps = this.pool ? undefined : MappedReads.create(opts.mapReadMin ?? 64 * 1024);
    this.rootPath = fs.realpathSync(opts.root);
    this.readOnly = opts.readOnly ?? false;
    this.policy = opts.policy ?? UidPolicy.service();
    this.logger = opts.logger;
    const fd = fs.openSync(this.rootPath, O_PATH | O_DIRECTORY);
    const st = fstat(fd);
    this.root = new Handle(this.handles, fd, st, undefined, '/');
    this.paths = new QidPaths(st.dev);
    this.dirs = new DirCache(opts.dirCacheEntries ?? 200_000);
    this.anames = new Set(['', '/', opts.root, this.rootPath, path.resolve(opts.root)]);
  }

  /** Releases the root descriptor. Call after the server has closed every session. */
  close(): void {
    this.root.release();
  }

  // ---- helpers -----------------------------------------------------------------------

  private isRoot(h: Handle): boolean {
    return h === this.root || (h.ino === this.root.ino && h.dev === this.root.dev);
  }

  private qidOfHandle(h: Handle): Qid {
    return qidOf(this.paths, fstat(h.fd));
  }

  private writable(): void {
    if (this.readOnly) throw err(Errno.EROFS);
  }

  /** Under the map policy: throws EACCES unless `u` has `want` on the file of `fd`. Returns its stat. */
  private need(u: User | undefined, fd: number, want: number): HostStat | undefined {
    if (u === undefined) return undefined;
    const st = fstat(fd);
    if (!mayAccess(perm(st), u, want)) throw err(Errno.EACCES);
    return st;
  }

  /** Under the map policy: may `u` remove or rename `name` out of directory `dir`? */
  private needDelete(u: User | undefined, dir: Handle, name: string): void {
    if (u === undefined) return;
    const dst = fstat(dir.fd);
    const vst = lstatOrNull(dir.fd, name);
    if (!mayAccess(perm(dst), u, MAY_WRITE | MAY_EXEC)) throw err(Errno.EACCES);
    if (vst !== undefined && !mayDelete(perm(dst), perm(vst), u)) throw err(Errno.EPERM);
  }

  /** The gid a new file of `u` gets in directory `dst`: the directory's if set-gid, else `asked` if u may, else u's. */
  private newGid(u: User, dst: HostStat | undefined, asked: number): number {
    if (dst !== undefined && dst.mode & S_ISGID) return dst.gid;
    if (asked !== NOID && (u.uid === 0 || u.groups.includes(asked))) return asked;
    return u.gid;
  }

  /** A new Handle for `name` in directory `dir` (O_PATH, not following a symlink there). */
  private lookup(dir: Handle, name: string): [Handle, HostStat] {
    return this.handleOn(dir, name, openIn(dir.fd, name, O_PATH | O_NOFOLLOW));
  }

  /** A Handle on `name` in `dir`, whose O_PATH descriptor `fd` was just opened. */
  private handleOn(dir: Handle, name: string, fd: number): [Handle, HostStat] {
    try {
      const st = fstat(fd);
      return [new Handle(this.handles, fd, st, dir, name), st];
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** `lookup` through the thread pool. */
  private async lookupPooled(dir: Handle, name: string): Promise<[Handle, HostStat]> {
    const fd = await pooled.open(at(dir.fd, name), O_PATH | O_NOFOLLOW);
    try {
      const st = await pooled.fstat(fd);
      return [new Handle(this.handles, fd, st, dir, name), st];
    } catch (e) {
      fs.close(fd, noop);
      throw e;
    }
  }

  /** ".." of a directory: the root stays the root; elsewhere the kernel's parent of the pinned directory. */
  private parentOf(h: Handle): [Handle, HostStat] {
    if (this.isRoot(h)) return [this.root.retain(), fstat(this.root.fd)];
    const fd = openIn(h.fd, '..', O_PATH | O_DIRECTORY);
    try {
      const st = fstat(fd);
      if (st.ino === this.root.ino && st.dev === this.root.dev) {
        fs.closeSync(fd);
        return [this.root.retain(), st];
      }
      return [new Handle(this.handles, fd, st, undefined, path.basename(fs.readlinkSync(at(fd)))), st];
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /**
   * Where the file of `h` is now (its directory and name), for the operations that need a name.
   * The root has none (EBUSY). A directory whose recorded place is stale is found again through
   * the kernel (its ".." and its current name); a file whose place is stale is ENOENT.
   */
  private locate(h: Handle): { dir: Handle; name: string } {
    if (this.isRoot(h)) throw err(Errno.EBUSY, 'the export root');
    try {
      return h.located();
    } catch (e) {
      if (!h.isDir) throw e;
    }
    const [p] = this.parentOf(h);
    try {
      const name = path.basename(fs.readlinkSync(at(h.fd)));
      h.moveTo(p, name);
    } finally {
      p.release();
    }
    return h.located();
  }

  /** Closes an I/O descriptor: now, or through the thread pool (a close may flush on a network file system). */
  private closeFd(fd: number): void {
    if (this.pool) fs.close(fd, noop);
    else fs.closeSync(fd);
  }

  /**
   * Ends the fid's I/O descriptor (s.fd = -1). A descriptor that is also its Handle's (a file
   * the fid created) stays with the Handle, which closes it with its last reference; any other
   * is closed now.
   */
  private closeIo(s: FidState): void {
    if (s.fd >= 0 && s.fd !== s.h.fd) this.closeFd(s.fd);
    s.fd = -1;
    this.maps?.release(s);
  }

  private fileOf(f: Fid<FidState>): FidState {
    const s = f.aux;
    if (s === undefined) throw err(Errno.EBADF);
    return s;
  }

  // ---- attach, walk, clunk -------------------------------------------------------------

  attach(fid: Fid<FidState>, _afid: Fid<FidState> | undefined, req: Req): Qid {
    const aname = (req.ifcall as { aname: string }).aname;
    if (!this.anames.has(aname)) throw new NinepError(Ename.badattach, Errno.ENOENT);
    const user = this.policy.resolve(fid.uname, fid.nUname);
    if (user === null) throw new NinepError(`user ${JSON.stringify(fid.uname)} is not in the uid map`, Errno.EACCES);
    fid.aux = { h: this.root.retain(), user, fd: -1, lflags: 0 };
    return this.qidOfHandle(this.root);
  }

  clone(fid: Fid<FidState>, newfid: Fid<FidState>): void {
    const s = this.fileOf(fid);
    newfid.aux = { h: s.h.retain(), user: s.user, fd: -1, lflags: 0 };
  }

  walk1(fid: Fid<FidState>, name: string): Awaitable<Qid | NinepError> {
    const s = this.fileOf(fid);
    const h = s.h;
    this.need(s.user, h.fd, MAY_EXEC);
    if (this.pool && name !== '..') {
      return this.lookupPooled(h, name).then(([next, st]) => {
        if (fid.aux !== s || s.h !== h) {
          next.release();
          throw err(Errno.EBADF);
        }
        s.h = next;
        h.release();
        return qidOf(this.paths, st);
      });
    }
    let next: Handle, st: HostStat;
    if (name === '..') [next, st] = this.parentOf(h);
    else {
      // A missing name is the walk that fails most: answered without a throw.
      const fd = tryOpenIn(h.fd, name, O_PATH | O_NOFOLLOW);
      if (fd < 0) return err(-fd);
      [next, st] = this.handleOn(h, name, fd);
    }
    s.h = next;
    h.release();
    return qidOf(this.paths, st);
  }

  destroyfid(fid: Fid<FidState>): void {
    const s = fid.aux;
    if (s === undefined) return;
    fid.aux = undefined as unknown as FidState;
    if (s.owners !== undefined) for (const o of s.owners) this.locks.releaseOwner(s.h.key, o);
    this.closeIo(s);
    if (s.dirfd !== undefined) this.closeFd(s.dirfd);
    s.h.release();
  }

  // ---- open and create ------------------------------------------------------------------

  open(fid: Fid<FidState>, mode: number): Awaitable<Qid> {
    return this.openFile(fid, lflagsOfMode(mode), (mode & 3) === OEXEC);
  }

  lopen(fid: Fid<FidState>, flags: number): Awaitable<Qid> {
    return this.openFile(fid, flags, false);
  }

  private openFile(fid: Fid<FidState>, lflags: number, exec: boolean): Awaitable<Qid> {
    const s = this.fileOf(fid);
    const h = s.h;
    if (h.isSymlink) throw err(Errno.ELOOP);
    const acc = lflags & L_O_ACCMODE;
    const writes = acc === L_O_WRONLY || acc === L_O_RDWR || (lflags & L_O_TRUNC) !== 0;
    if (writes && this.readOnly) throw err(Errno.EROFS);
    if (lflags & L_O_DIRECTORY && !h.isDir) throw err(Errno.ENOTDIR);
    let want = 0;
    if (acc === L_O_RDONLY || acc === L_O_RDWR) want |= MAY_READ;
    if (writes) want |= MAY_WRITE;
    if (exec) want |= MAY_EXEC;
    this.need(s.user, h.fd, want);
    this.closeIo(s);
    s.lflags = lflags;
    s.listing = undefined;
    if (h.isDir) return this.qidOfHandle(h);
    const flags = hostOpenFlags(lflags) & ~fs.constants.O_EXCL;
    if (h.isRegular && !this.pool) {
      const fd = fs.openSync(at(h.fd), flags);
      s.fd = fd;
      return qidOf(this.paths, fstat(fd));
    }
    // FIFOs and devices may block in open(2), and so may anything under metadataIo 'pool': off
    // the event loop.
    return new Promise<Qid>((resolve, reject) => {
      fs.open(at(h.fd), flags, (e, fd) => {
        if (e) return reject(e);
        if (fid.aux !== s) {
          fs.close(fd, noop);
          return reject(err(Errno.EBADF));
        }
        s.fd = fd;
        resolve(pooled.fstat(fd).then((st) => qidOf(this.paths, st)));
      });
    });
  }

  lcreate(fid: Fid<FidState>, name: string, flags: number, mode: number, gid: number): Awaitable<Qid> {
    return this.createFile(fid, name, flags, mode & 0o7777, gid);
  }

  /** Creates (or, without O_EXCL, opens) regular file `name` in fid's directory; fid becomes it, open. */
  private createFile(fid: Fid<FidState>, name: string, lflags: number, mode: number, gid: number): Awaitable<Qid> {
    this.writable();
    nameCheck(name);
    const s = this.fileOf(fid);
    const dir = s.h;
    const u = s.user;
    const dst = this.need(u, dir.fd, MAY_WRITE | MAY_EXEC);
    let existed = false;
    if (u !== undefined && !(lflags & L_O_EXCL)) {
      const old = lstatOrNull(dir.fd, name);
      if (old !== undefined) {
        existed = true;
        const acc = lflags & L_O_ACCMODE;
        let want = acc === L_O_RDONLY ? MAY_READ : acc === L_O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
        if (lflags & L_O_TRUNC) want |= MAY_WRITE;
        if (!mayAccess(perm(old), u, want)) throw err(Errno.EACCES);
      }
    }
    const hflags = (hostOpenFlags(lflags) | fs.constants.O_CREAT | O_NOFOLLOW) & ~O_DIRECTORY;
    const chown = u !== undefined && !existed ? [u.uid, this.newGid(u, dst, gid)] as const : undefined;
    if (this.pool) return this.createPooled(fid, s, dir, name, hflags, mode, lflags, chown);
    const fd = openIn(dir.fd, name, hflags, mode);
    try {
      if (chown !== undefined) fs.fchownSync(fd, chown[0], chown[1]);
      return this.created(s, dir, name, fd, fstat(fd), lflags);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The opens of `createFile` through the thread pool; the fid must still be in the directory after them. */
  private async createPooled(
    fid: Fid<FidState>, s: FidState, dir: Handle, name: string, hflags: number, mode: number, lflags: number,
    chown: readonly [number, number] | undefined,
  ): Promise<Qid> {
    const fd = await pooled.open(at(dir.fd, name), hflags, mode);
    // A second, O_PATH descriptor for the Handle: the I/O one is then closed through the pool at
    // clunk (a close may flush on a network file system), while a Handle closes its own now.
    let pfd = -1;
    try {
      pfd = await pooled.open(at(fd), O_PATH);
      if (chown !== undefined) fs.fchownSync(fd, chown[0], chown[1]);
      const st = await pooled.fstat(fd);
      if (fid.aux !== s || s.h !== dir) throw err(Errno.EBADF);
      return this.created(s, dir, name, fd, st, lflags, pfd);
    } catch (e) {
      if (pfd >= 0) fs.close(pfd, noop);
      fs.close(fd, noop);
      throw e;
    }
  }

  /**
   * The fid becomes the new file `name` of `dir`, open as `fd`. Without `pfd` that one
   * descriptor is both the fid's I/O descriptor and its Handle's (no second open per create, as
   * diod makes none): the Handle owns it and closes it when its last fid goes (see `closeIo`).
   * With `pfd` (metadataIo 'pool'), the Handle holds that O_PATH descriptor instead.
   */
  private created(s: FidState, dir: Handle, name: string, fd: number, st: HostStat, lflags: number, pfd = fd): Qid {
    if ((st.mode & S_IFMT) !== S_IFREG) throw err(Errno.EISDIR);
    this.closeIo(s);
    s.h = new Handle(this.handles, pfd, st, dir, name);
    dir.release();
    s.fd = fd;
    s.lflags = lflags & ~(L_O_CREAT | L_O_EXCL);
    return qidOf(this.paths, st);
  }

  /** Makes `name` in `dir` (by `make`), gives it to the mapped user, and returns a Handle on it. */
  private made(dir: Handle, name: string, u: User | undefined, dst: HostStat | undefined, gid: number, dirOnly: boolean): [Handle, HostStat] {
    const [h, st] = this.lookup(dir, name);
    try {
      if (dirOnly && !h.isDir) throw err(Errno.EIO, 'created directory replaced');
      if (u !== undefined) {
        fs.chownSync(at(h.fd), u.uid, this.newGid(u, dst, gid));
        return [h, fstat(h.fd)];
      }
      return [h, st];
    } catch (e) {
      h.release();
      throw e;
    }
  }

  mkdir(dfid: Fid<FidState>, name: string, mode: number, gid: number): Awaitable<Qid> {
    if (this.pool && this.fileOf(dfid).user === undefined) return this.mkdirPooled(dfid, name, mode);
    const [h, st] = this.makeDir(dfid, name, mode, gid);
    h.release();
    return qidOf(this.paths, st);
  }

  /** Tmkdir through the thread pool (policy "service": no chown). */
  private async mkdirPooled(dfid: Fid<FidState>, name: string, mode: number): Promise<Qid> {
    this.writable();
    nameCheck(name);
    const dir = this.fileOf(dfid).h.retain();
    try {
      await pooled.mkdir(at(dir.fd, name), mode & 0o7777);
      const [h, st] = await this.lookupPooled(dir, name);
      h.release();
      if (!h.isDir) throw err(Errno.EIO, 'created directory replaced');
      return qidOf(this.paths, st);
    } finally {
      dir.release();
    }
  }

  private makeDir(dfid: Fid<FidState>, name: string, mode: number, gid: number): [Handle, HostStat] {
    this.writable();
    nameCheck(name);
    const s = this.fileOf(dfid);
    const dst = this.need(s.user, s.h.fd, MAY_WRITE | MAY_EXEC);
    mkdirIn(s.h.fd, name, mode & 0o7777);
    return this.made(s.h, name, s.user, dst, gid, true);
  }

  symlink(dfid: Fid<FidState>, name: string, target: string, gid: number): Qid {
    const [h, st] = this.makeSymlink(dfid, name, target, gid);
    h.release();
    return qidOf(this.paths, st);
  }

  private makeSymlink(dfid: Fid<FidState>, name: string, target: string, gid: number): [Handle, HostStat] {
    this.writable();
    nameCheck(name);
    if (target === '' || target.includes('\0')) throw err(Errno.EINVAL);
    const s = this.fileOf(dfid);
    const dst = this.need(s.user, s.h.fd, MAY_WRITE | MAY_EXEC);
    fs.symlinkSync(target, at(s.h.fd, name));
    const r = this.made(s.h, name, s.user, dst, gid, false);
    r[0].target = target;
    return r;
  }

  mknod(dfid: Fid<FidState>, name: string, mode: number, _major: number, _minor: number, gid: number): Awaitable<Qid> {
    return this.makeNode(dfid, name, mode, gid).then(([h, st]) => {
      h.release();
      return qidOf(this.paths, st);
    });
  }

  /**
   * Tmknod: FIFOs (through mkfifo(1): Node has no mknod(2)) and regular files; device nodes are
   * refused (EPERM), sockets are not supported (EOPNOTSUPP).
   */
  private async makeNode(dfid: Fid<FidState>, name: string, mode: number, gid: number): Promise<[Handle, HostStat]> {
    this.writable();
    nameCheck(name);
    const s = this.fileOf(dfid);
    const dir = s.h;
    const t = mode & S_IFMT;
    if (t === S_IFCHR || t === S_IFBLK) throw new NinepError('device nodes are not allowed in the export', Errno.EPERM);
    if (t === S_IFSOCK) throw new NinepError('socket nodes are not supported', Errno.EOPNOTSUPP);
    if (t !== S_IFIFO && t !== S_IFREG && t !== 0) throw err(Errno.EINVAL);
    const dst = this.need(s.user, dir.fd, MAY_WRITE | MAY_EXEC);
    if (lstatOrNull(dir.fd, name) !== undefined) throw err(Errno.EEXIST);
    if (t === S_IFIFO) await runMkfifo(`/proc/${process.pid}/fd/${dir.fd}/${name}`, mode);
    else fs.closeSync(openIn(dir.fd, name, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | O_NOFOLLOW, mode & 0o7777));
    return this.made(dir, name, s.user, dst, gid, false);
  }

  link(dfid: Fid<FidState>, fid: Fid<FidState>, name: string): void {
    this.writable();
    nameCheck(name);
    const d = this.fileOf(dfid);
    const src = this.fileOf(fid).h;
    if (src.isDir) throw err(Errno.EPERM);
    this.need(d.user, d.h.fd, MAY_WRITE | MAY_EXEC);
    const from = this.locate(src);
    fs.linkSync(at(from.dir.fd, from.name), at(d.h.fd, name));
  }

  // ---- 9P2000 / .u create -----------------------------------------------------------------

  async create(fid: Fid<FidState>, name: string, permBits: number, mode: number, extension: string, req: Req): Promise<Qid> {
    const s = this.fileOf(fid);
    const dotu = req.session.dialect !== '9P2000';
    let p = permBits;
    if (!dotu) {
      // open(5): the directory's permissions mask the new file's.
      const dmode = fstat(s.h.fd).mode;
      const mask = p & DMDIR ? 0o777 : 0o666;
      p = (p & ~mask) | (p & dmode & mask);
    }
    let bits = p & 0o777;
    if (dotu && p & DMSETUID) bits |= 0o4000;
    if (dotu && p & DMSETGID) bits |= 0o2000;
    const gid = s.user?.gid ?? NOID;
    let made: [Handle, HostStat] | undefined;
    if (p & DMDIR) made = this.makeDir(fid, name, bits, gid);
    else if (dotu && p & DMSYMLINK) made = this.makeSymlink(fid, name, extension, gid);
    else if (dotu && p & DMLINK) {
      const n = Number.parseInt(extension.trim(), 10);
      const target = Number.isInteger(n) ? req.session.fids.get(n) : undefined;
      if (target === undefined) throw err(Errno.EBADF, `link target fid ${JSON.stringify(extension)}`);
      this.link(fid, target as Fid<FidState>, name);
      made = this.lookup(s.h, name);
    } else if (dotu && p & DMDEVICE) throw new NinepError('device nodes are not allowed in the export', Errno.EPERM);
    else if (dotu && p & DMNAMEDPIPE) made = await this.makeNode(fid, name, S_IFIFO | bits, gid);
    else if (dotu && p & DMSOCKET) throw new NinepError('socket nodes are not supported', Errno.EOPNOTSUPP);
    else return this.createFile(fid, name, lflagsOfMode(mode) | L_O_CREAT | L_O_EXCL, bits, gid);
    // Not a regular file: fid becomes the new file, with nothing to do I/O on.
    const [h, st] = made;
    const old = s.h;
    s.h = h;
    old.release();
    return qidOf(this.paths, st);
  }

  // ---- I/O -------------------------------------------------------------------------------

  read(fid: Fid<FidState>, offset: number, count: number, req: Req): Awaitable<Buffer> {
    const s = this.fileOf(fid);
    if (s.xattr !== undefined) return s.xattr.subarray(Math.min(offset, s.xattr.length), Math.min(offset + count, s.xattr.length));
    const fd = s.fd;
    if (fd < 0) throw err(Errno.EBADF);
    if (count === 0) return EMPTY;
    const regular = s.h.isRegular;
    const maps = this.maps;
    if (maps !== undefined && regular && count >= maps.min && req.volatileReplies) {
      const mapped = maps.read(s, fd, offset, count);
      if (mapped !== undefined) return mapped;
    }
    // Reply memory from the transport: reused between big reads (no fresh megabyte per Tread).
    const buf = req.readBuffer(count);
    if (regular && count <= this.syncIoMax) {
      const n = fs.readSync(fd, buf, 0, count, offset);
      return n === count ? buf : buf.subarray(0, n);
    }
    const pos = regular ? offset : null;
    return new Promise<Buffer>((resolve, reject) => {
      fs.read(fd, buf, 0, count, pos, (e, n) => (e ? reject(e) : resolve(n === count ? buf : buf.subarray(0, n))));
    });
  }

  write(fid: Fid<FidState>, offset: number, data: Buffer): Awaitable<number> {
    const s = this.fileOf(fid);
    if (s.xset !== undefined) return this.writeXattr(s, s.xset, offset, data);
    const fd = s.fd;
    if (fd < 0) throw err(Errno.EBADF);
    if (data.length === 0) return 0;
    const regular = s.h.isRegular;
    if (regular && data.length <= this.syncIoMax) return writePieces(fd, data, offset);
    const pos = regular ? offset : null;
    // One thread-pool job per Twrite, written in 64 KiB pieces (see WRITE_PIECE_MAX).
    if (regular && data.length > WRITE_PIECE_MAX && this.posix) return pwritePieces(fd, data, offset, WRITE_PIECE_MAX).catch(posixError);
    return new Promise<number>((resolve, reject) => {
      fs.write(fd, data, 0, data.length, pos, (e, n) => (e ? reject(e) : resolve(n)));
    });
  }

  fsync(fid: Fid<FidState>, datasync: number): Awaitable<void> {
    const s = this.fileOf(fid);
    let fd = s.fd;
    if (fd < 0) {
      if (!fid.isOpen || !s.h.isDir) throw err(Errno.EBADF);
      s.dirfd ??= fs.openSync(at(s.h.fd), fs.constants.O_RDONLY | O_DIRECTORY);
      fd = s.dirfd;
    }
    const f = fd;
    return new Promise<void>((resolve, reject) => {
      const done = (e: NodeJS.ErrnoException | null) => (e ? reject(e) : resolve());
      if (datasync) fs.fdatasync(f, done);
      else fs.fsync(f, done);
    });
  }

  // ---- attributes ---------------------------------------------------------------------------

  getattr(fid: Fid<FidState>): Awaitable<Attr> {
    const s = this.fileOf(fid);
    const fd = s.fd >= 0 ? s.fd : s.h.fd;
    if (this.pool) return pooled.fstat(fd).then((st) => attrOf(this.paths, st));
    return attrOf(this.paths, fstat(fd));
  }

  setattr(fid: Fid<FidState>, a: SetAttr): void {
    const v = a.valid;
    if ((v & (SETATTR_MODE | SETATTR_UID | SETATTR_GID | SETATTR_SIZE | SETATTR_ATIME | SETATTR_MTIME)) === 0) return;
    this.writable();
    const s = this.fileOf(fid);
    const h = s.h;
    const u = s.user;
    let st = fstat(h.fd);
    if (u !== undefined) {
      const p = perm(st);
      if (v & SETATTR_MODE && !isOwner(p, u)) throw err(Errno.EPERM);
      if (v & SETATTR_UID && a.uid !== p.uid && u.uid !== 0) throw err(Errno.EPERM);
      if (v & SETATTR_GID && a.gid !== p.gid && !(u.uid === 0 || (u.uid === p.uid && u.groups.includes(a.gid)))) throw err(Errno.EPERM);
      if (v & SETATTR_SIZE && !mayAccess(p, u, MAY_WRITE)) throw err(Errno.EACCES);
      const setsTime = (v & SETATTR_ATIME && v & SETATTR_ATIME_SET) || (v & SETATTR_MTIME && v & SETATTR_MTIME_SET);
      if (setsTime && !isOwner(p, u)) throw err(Errno.EPERM);
      if ((v & (SETATTR_ATIME | SETATTR_MTIME)) && !setsTime && !isOwner(p, u) && !mayAccess(p, u, MAY_WRITE)) throw err(Errno.EACCES);
    }
    if (v & SETATTR_SIZE) {
      if (h.isDir) throw err(Errno.EISDIR);
      if (!h.isRegular) throw err(Errno.EINVAL);
    }
    if (v & SETATTR_MODE) {
      if (h.isSymlink) throw err(Errno.EOPNOTSUPP);
      fs.chmodSync(at(h.fd), a.mode & 0o7777);
    }
    if (v & (SETATTR_UID | SETATTR_GID)) {
      fs.chownSync(at(h.fd), v & SETATTR_UID ? a.uid : -1, v & SETATTR_GID ? a.gid : -1);
    }
    if (v & SETATTR_SIZE) {
      const acc = s.lflags & L_O_ACCMODE;
      if (s.fd >= 0 && (acc === L_O_WRONLY || acc === L_O_RDWR)) fs.ftruncateSync(s.fd, a.size);
      else fs.truncateSync(at(h.fd), a.size);
    }
    if (v & (SETATTR_ATIME | SETATTR_MTIME)) {
      if (v & SETATTR_SIZE) st = fstat(h.fd);
      const now = Date.now() / 1000;
      const atime = v & SETATTR_ATIME ? (v & SETATTR_ATIME_SET ? seconds(a.atimeSec, a.atimeNsec) : now) : seconds(st.atimeSec, st.atimeNsec);
      const mtime = v & SETATTR_MTIME ? (v & SETATTR_MTIME_SET ? seconds(a.mtimeSec, a.mtimeNsec) : now) : seconds(st.mtimeSec, st.mtimeNsec);
      fs.utimesSync(at(h.fd), atime, mtime);
    }
  }

  statfs(fid: Fid<FidState>): Awaitable<Body<MsgType.Rstatfs>> {
    const s = this.fileOf(fid);
    if (this.pool) return pooled.statfs(at(s.h.fd)).then((f) => this.statfsOf(f));
    return this.statfsOf(fs.statfsSync(at(s.h.fd)));
  }

  private statfsOf(f: fs.StatsFs): Body<MsgType.Rstatfs> {
    return {
      fsType: V9FS_MAGIC, bsize: f.bsize, blocks: f.blocks, bfree: f.bfree, bavail: f.bavail, files: f.files,
      ffree: f.ffree, fsid: this.root.dev, namelen: NAME_MAX,
    };
  }

  readlink(fid: Fid<FidState>): string {
    const h = this.fileOf(fid).h;
    if (!h.isSymlink) throw err(Errno.EINVAL);
    if (h.target === undefined) {
      const at1 = this.locate(h);
      h.target = fs.readlinkSync(at(at1.dir.fd, at1.name));
    }
    return h.target;
  }

  // ---- names -----------------------------------------------------------------------------------

  rename(fid: Fid<FidState>, dfid: Fid<FidState>, name: string): void {
    this.writable();
    nameCheck(name);
    const s = this.fileOf(fid);
    const to = this.fileOf(dfid).h;
    const from = this.locate(s.h);
    this.moveEntry(s.user, from.dir, from.name, to, name);
  }

  renameat(olddfid: Fid<FidState>, oldname: string, newdfid: Fid<FidState>, newname: string): void {
    this.writable();
    nameCheck(oldname);
    nameCheck(newname);
    const s = this.fileOf(olddfid);
    this.moveEntry(s.user, s.h, oldname, this.fileOf(newdfid).h, newname);
  }

  private moveEntry(u: User | undefined, olddir: Handle, oldname: string, newdir: Handle, newname: string): void {
    this.needDelete(u, olddir, oldname);
    this.needDelete(u, newdir, newname);
    const st = lstatAt(olddir.fd, oldname);
    fs.renameSync(at(olddir.fd, oldname), at(newdir.fd, newname));
    this.handles.renamed(fileKey(st.dev, st.ino), olddir, oldname, newdir, newname);
  }

  unlinkat(dfid: Fid<FidState>, name: string, flags: number): Awaitable<void> {
    this.writable();
    nameCheck(name);
    const s = this.fileOf(dfid);
    this.needDelete(s.user, s.h, name);
    return this.removeEntry(s.h, name, (flags & AT_REMOVEDIR) !== 0);
  }

  /** rmdir or unlink `name` in `dir`: now, or through the thread pool (the directory held meanwhile). */
  private removeEntry(dir: Handle, name: string, isDir: boolean): Awaitable<void> {
    if (!this.pool) return unlinkIn(dir.fd, name, isDir);
    const p = at(dir.fd, name);
    dir.retain();
    return (isDir ? pooled.rmdir(p) : pooled.unlink(p)).finally(() => dir.release());
  }

  remove(fid: Fid<FidState>): Awaitable<void> {
    this.writable();
    const s = this.fileOf(fid);
    const { dir, name } = this.locate(s.h);
    this.needDelete(s.user, dir, name);
    return this.removeEntry(dir, name, s.h.isDir);
  }

  // ---- directories ---------------------------------------------------------------------------

  private listing(h: Handle): Listing {
    const st = fstat(h.fd);
    const self = qidOf(this.paths, st);
    let parent = self;
    if (!this.isRoot(h)) {
      const p = lstatOrNull(h.fd, '..');
      if (p !== undefined) parent = qidOf(this.paths, p);
    }
    return this.dirs.list(h.key, h.fd, st, self, parent, this.paths);
  }

  /** Treaddir: the encoded entries after cookie `offset` of the fid's snapshot (see dirlist.ts). */
  readdir(fid: Fid<FidState>, offset: number, count: number): Buffer {
    const s = this.fileOf(fid);
    if (!s.h.isDir) throw err(Errno.ENOTDIR);
    if (s.listing === undefined || offset === 0) s.listing = this.listing(s.h);
    return s.listing.reply(offset, count);
  }

  /** 9P2000/.u directory reads: entry `index` (without "." and "..") as a stat record. */
  dirgen(fid: Fid<FidState>, index: number, req: Req): Dir | null {
    const s = this.fileOf(fid);
    if (s.listing === undefined || index === 0) s.listing = this.listing(s.h);
    const e = s.listing.entry(index + 2);
    if (e === undefined) return null;
    const dialect = req.session.dialect ?? '9P2000';
    const p = at(s.h.fd, e.name);
    const st = lstatOrNull(s.h.fd, e.name);
    if (st === undefined) {
      return { type: 0, dev: 0, qid: e.qid, mode: 0, atime: 0, mtime: 0, length: 0, name: e.name, uid: '', gid: '', muid: '', extension: '', nUid: NOID, nGid: NOID, nMuid: NOID };
    }
    let target: string | undefined;
    if (dialect !== '9P2000' && (st.mode & S_IFMT) === 0o120000) {
      try {
        target = fs.readlinkSync(p);
      } catch {
        target = '';
      }
    }
    return dirOf(this.paths, this.names, st, e.name, dialect, target);
  }

  // ---- 9P2000 / .u stat and wstat -------------------------------------------------------------

  stat(fid: Fid<FidState>, req: Req): Dir {
    const s = this.fileOf(fid);
    const h = s.h;
    const dialect = req.session.dialect ?? '9P2000';
    const st = fstat(s.fd >= 0 ? s.fd : h.fd);
    const target = h.isSymlink && dialect !== '9P2000' ? this.readlink(fid) : undefined;
    return dirOf(this.paths, this.names, st, this.isRoot(h) ? '/' : h.name, dialect, target);
  }

  async wstat(fid: Fid<FidState>, d: Dir, req: Req): Promise<void> {
    const s = this.fileOf(fid);
    const h = s.h;
    const dotu = req.session.dialect !== '9P2000';
    const a: SetAttr = { valid: 0, mode: 0, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 };
    if (d.mode !== NOID) {
      let m = d.mode & 0o777;
      if (dotu && d.mode & DMSETUID) m |= 0o4000;
      if (dotu && d.mode & DMSETGID) m |= 0o2000;
      a.valid |= SETATTR_MODE;
      a.mode = m;
    }
    if (!isDontTouchLength(d.length)) {
      if (h.isDir) {
        if (d.length !== 0) throw err(Errno.EISDIR);
      } else {
        a.valid |= SETATTR_SIZE;
        a.size = d.length;
      }
    }
    if (d.atime !== NOID) {
      a.valid |= SETATTR_ATIME | SETATTR_ATIME_SET;
      a.atimeSec = d.atime;
    }
    if (d.mtime !== NOID) {
      a.valid |= SETATTR_MTIME | SETATTR_MTIME_SET;
      a.mtimeSec = d.mtime;
    }
    const uid = dotu && d.nUid !== undefined && d.nUid !== NOID ? d.nUid : d.uid !== '' ? this.names.uidOf(d.uid) ?? -1 : undefined;
    const gid = dotu && d.nGid !== undefined && d.nGid !== NOID ? d.nGid : d.gid !== '' ? this.names.gidOf(d.gid) ?? -1 : undefined;
    if (uid === -1 || gid === -1) throw new NinepError('unknown user or group', Errno.EINVAL);
    if (uid !== undefined) {
      a.valid |= SETATTR_UID;
      a.uid = uid;
    }
    if (gid !== undefined) {
      a.valid |= SETATTR_GID;
      a.gid = gid;
    }
    const rename = d.name !== '' && d.name !== h.name && !this.isRoot(h);
    if (a.valid === 0 && !rename) {
      // All "don't touch": a request to commit the file to stable storage (stat(5)).
      if (s.fd >= 0) await new Promise<void>((resolve, reject) => fs.fsync(s.fd, (e) => (e ? reject(e) : resolve())));
      return;
    }
    this.writable();
    let from: { dir: Handle; name: string } | undefined;
    if (rename) {
      nameCheck(d.name);
      from = this.locate(h);
      // 9P2000 refuses a name in use (stat(5)); 9P2000.u replaces it as rename(2) does, which is
      // what Linux v9fs's mv over an existing file needs.
      if (fid.session.dialect === '9P2000' && lstatOrNull(from.dir.fd, d.name) !== undefined) throw err(Errno.EEXIST);
      this.needDelete(s.user, from.dir, from.name);
    }
    this.setattr(fid, a);
    if (from !== undefined) this.moveEntry(s.user, from.dir, from.name, from.dir, d.name);
  }

  // ---- locks ------------------------------------------------------------------------------------

  private lockOwner(fid: Fid<FidState>, l: LockArgs): string {
    return `${fid.session.id}\0${l.clientId}\0${l.procId}`;
  }

  private lockable(fid: Fid<FidState>, type: number): FidState {
    const s = this.fileOf(fid);
    if (!fid.isOpen || (s.fd < 0 && !s.h.isDir)) throw err(Errno.EBADF);
    const acc = s.lflags & L_O_ACCMODE;
    if (type === LOCK_TYPE_WRLCK && acc === L_O_RDONLY) throw err(Errno.EBADF);
    if (type === LOCK_TYPE_RDLCK && acc === L_O_WRONLY) throw err(Errno.EBADF);
    if (type !== LOCK_TYPE_RDLCK && type !== LOCK_TYPE_WRLCK && type !== LOCK_TYPE_UNLCK) throw err(Errno.EINVAL);
    return s;
  }

  lock(fid: Fid<FidState>, _flags: number, l: LockArgs): number {
    const s = this.lockable(fid, l.lockType);
    const owner = this.lockOwner(fid, l);
    const { start, end } = rangeOf(l.start, l.length);
    const status = this.locks.set(s.h.key, owner, l.lockType, start, end, l.procId, l.clientId);
    if (status === LOCK_SUCCESS && l.lockType !== LOCK_TYPE_UNLCK) (s.owners ??= new Set()).add(owner);
    return status;
  }

  getlock(fid: Fid<FidState>, l: LockArgs): LockArgs {
    const s = this.lockable(fid, l.lockType === LOCK_TYPE_UNLCK ? LOCK_TYPE_RDLCK : l.lockType);
    const { start, end } = rangeOf(l.start, l.length);
    const c = this.locks.conflict(s.h.key, this.lockOwner(fid, l), l.lockType, start, end);
    if (c === undefined) return { ...l, lockType: LOCK_TYPE_UNLCK };
    return { lockType: c.type, start: c.start, length: lengthOf(c), procId: c.procId, clientId: c.clientId };
  }

  // ---- xattrs -------------------------------------------------------------------------------------

  /**
   * Txattrwalk: newfid reads the value of attribute `name` of fid's file, or with name "" the
   * NUL-terminated list of its names; the size is answered now and the bytes are kept on newfid
   * (read with Tread, released at clunk). The call acts on the very file the fid holds: through
   * its open descriptor if it has one (so an unlinked open file works), else through the
   * /proc/self/fd magic link of its O_PATH descriptor, which lands on the file itself, a symlink
   * included, and is never followed further. Under the map policy a user needs read permission
   * for user.* values, and trusted.* names are hidden from users other than uid 0 (as Linux
   * does for processes without CAP_SYS_ADMIN). Without @prose/posix's addon: an empty list, and
   * ENODATA for every name.
   */
  xattrwalk(fid: Fid<FidState>, newfid: Fid<FidState>, name: string): number {
    const s = this.fileOf(fid);
    let value: Buffer;
    if (!this.posix) {
      if (name !== '') throw err(Errno.ENODATA);
      value = EMPTY;
    } else {
      const u = s.user;
      const target = s.fd >= 0 ? s.fd : at(s.h.fd);
      if (name === '') {
        value = posixCall(() => listxattrRaw(target));
        if (u !== undefined && u.uid !== 0) value = withoutTrusted(value);
      } else {
        if (u !== undefined && u.uid !== 0) {
          if (name.startsWith(XATTR_TRUSTED)) throw err(Errno.ENODATA);
          if (name.startsWith(XATTR_USER)) this.need(u, s.h.fd, MAY_READ);
        }
        value = posixCall(() => (typeof target === 'number' ? fgetxattr(target, name) : getxattr(target, name)));
      }
    }
    newfid.aux = { h: s.h.retain(), user: s.user, fd: -1, lflags: 0, xattr: value };
    return value.length;
  }

  /**
   * Txattrcreate: fid becomes the writer of attribute `name`, `size` bytes, `flags`
   * XATTR_CREATE/XATTR_REPLACE. Size 0 removes the attribute, now (diod's and Linux v9fs's
   * convention: removexattr(2) arrives as a zero-sized create; the flags are not looked at).
   * Otherwise the value is collected from the fid's Twrites and set by the Twrite that brings
   * its last byte, so that write carries any error (EEXIST, ENODATA, ENOSPC, ...); a writer
   * clunked before that sets nothing. Checked here: read-only export (EROFS), size at most
   * 64 KiB (E2BIG), known flags, and under the map policy write permission for user.* (and
   * owner-only in a sticky directory's files, as Linux), uid 0 only for other namespaces.
   * Without @prose/posix's addon: EOPNOTSUPP.
   */
  xattrcreate(fid: Fid<FidState>, name: string, size: number, flags: number): void {
    if (!this.posix) throw new NinepError('extended attributes are not supported by this export', Errno.EOPNOTSUPP);
    this.writable();
    const s = this.fileOf(fid);
    if (name === '' || name.includes('\0')) throw err(Errno.EINVAL);
    if (Buffer.byteLength(name) > NAME_MAX) throw err(Errno.ERANGE);
    if (size > XATTR_SIZE_MAX) throw err(Errno.E2BIG);
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) throw err(Errno.EINVAL);
    const u = s.user;
    if (u !== undefined && u.uid !== 0) {
      if (!name.startsWith(XATTR_USER)) throw err(Errno.EPERM);
      const st = this.need(u, s.h.fd, MAY_WRITE)!;
      if (st.mode & 0o1000 && (st.mode & S_IFMT) === S_IFDIR && !isOwner(perm(st), u)) throw err(Errno.EPERM);
    }
    const target = s.fd >= 0 ? s.fd : at(s.h.fd);
    if (size === 0) {
      posixCall(() => (typeof target === 'number' ? fremovexattr(target, name) : removexattr(target, name)));
      s.xset = { name, flags, value: EMPTY, got: 0 };
      return;
    }
    s.xset = { name, flags, value: Buffer.alloc(size), got: 0 };
  }

  /** A Twrite to an xattr writer: copies the bytes; the one that completes the value sets it. */
  private writeXattr(s: FidState, x: XattrWriter, offset: number, data: Buffer): number {
    const size = x.value.length;
    if (offset >= size) return 0;
    const n = Math.min(data.length, size - offset);
    data.copy(x.value, offset, 0, n);
    x.got += n;
    if (x.got >= size && x.got - n < size) {
      const target = s.fd >= 0 ? s.fd : at(s.h.fd);
      posixCall(() => (typeof target === 'number' ? fsetxattr(target, x.name, x.value, x.flags) : setxattr(target, x.name, x.value, x.flags)));
    }
    return n;
  }
}

/** A PosixError as the NinepError of the same Linux errno; anything else as it is. */
function posixError(e: unknown): never {
  if (e instanceof PosixError) throw err(e.errno);
  throw e;
}

/** `f()`, its PosixErrors turned into NinepErrors. */
function posixCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    return posixError(e);
  }
}

/** A NUL-terminated name list without the trusted.* names. */
function withoutTrusted(list: Buffer): Buffer {
  const names = list.toString('utf8').split('\0').filter((n) => n !== '' && !n.startsWith(XATTR_TRUSTED));
  return names.length === 0 ? EMPTY : Buffer.from(names.join('\0') + '\0');
}

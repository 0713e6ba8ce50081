/**
 * The sandbox: every file the export touches is reached from a file descriptor it already holds,
 * one name at a time, never through a path the kernel would resolve from "/".
 *
 * The hot calls on a (directory, name) pair go through openat(2), unlinkat(2), mkdirat(2) and
 * statx(2) (`openIn`, `unlinkIn`, `mkdirIn`, and @prose/posix `lstatAt`, when its addon is
 * built). For the rest, Node has no *at(2) calls, but Linux's /proc/self/fd/N is a "magic
 * link": path resolution through it jumps to exactly the file that descriptor N refers to,
 * whatever its name is now. So
 *   - `at(dirfd, name)` = "/proc/self/fd/<dirfd>/<name>" is openat(dirfd, name): the directory is
 *     pinned by the descriptor and only the final component is looked up. Every call that takes
 *     it (open with O_NOFOLLOW, mkdir, unlink, rmdir, rename, link, symlink, lstat, readlink)
 *     acts on the entry itself and never follows a symbolic link there;
 *   - `at(fd)` = "/proc/self/fd/<fd>" names the file of an O_PATH descriptor itself: chmod,
 *     chown, truncate, utimes and a re-open for I/O act on that inode (a magic link to a symlink
 *     lands on the symlink and is not followed again; opening it for I/O is ELOOP).
 * Names given to `at` are single components: never "", ".", ".." or containing "/" or NUL (the
 * framework checks; `checkComponent` checks again). ".." is answered by the export itself: at
 * the root it stays at the root, elsewhere it is the kernel's ".." of the pinned directory.
 *
 * A `Handle` is one descriptor on one file, shared by the fids that refer to it (clones), with
 * the directory and name it was reached by (for the operations that can only name a file:
 * remove, rename of a fid, link, readlink). It is an O_PATH|O_NOFOLLOW descriptor, except for a
 * file a fid created (metadata calls on the event loop): there it is the descriptor the create
 * opened (a regular file, opened with O_NOFOLLOW), so a create needs no second open. Either kind pins the inode; every use
 * above works the same on both.
 */
import * as fs from 'node:fs';
import { Errno, NinepError, S_IFMT } from '@prose/protocol';
import { AT_REMOVEDIR, haveAtCalls, lstatAt, mkdirat, openat, tryOpenat, unlinkat, type HostStat } from '@prose/posix';

/** Linux open(2) flags Node does not name. */
export const O_PATH = 0o10000000;
export const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
export const O_DIRECTORY = fs.constants.O_DIRECTORY;

export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;

/** "/proc/self/fd/<fd>[/<name>]": see the module comment. */
export function at(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** True when @prose/posix's addon has the *at calls: the *In calls below are then real *at(2) calls. */
let atCalls: boolean | undefined;
function haveAt(): boolean {
  return (atCalls ??= haveAtCalls());
}

/**
 * The hot calls on (directory descriptor, name) — a walk step, a create, an unlink, a mkdir —
 * as openat(2)/unlinkat(2)/mkdirat(2) through @prose/posix when its addon is built: the same
 * lookup as through `at(dirfd, name)`, without the kernel's walk through procfs (2-3 µs a call
 * on a 2-vCPU VM). Without the addon, through `at`. Errors are Node-style (`code` = errno name).
 */
export function openIn(dirfd: number, name: string, flags: number, mode = 0o666): number {
  return haveAt() ? openat(dirfd, name, flags, mode) : fs.openSync(at(dirfd, name), flags, mode);
}

/**
 * `openIn` that answers a failure as the negative errno instead of throwing it (a walk to a
 * missing name is routine, and a throw costs more than the lookup).
 */
export function tryOpenIn(dirfd: number, name: string, flags: number): number {
  if (haveAt()) return tryOpenat(dirfd, name, flags);
  try {
    return fs.openSync(at(dirfd, name), flags);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    if (typeof errno === 'number' && errno < 0) return errno;
    throw e;
  }
}

/** unlink(2) or, for `isDir`, rmdir(2) of `name` in `dirfd` (see openIn). */
export function unlinkIn(dirfd: number, name: string, isDir: boolean): void {
  if (haveAt()) unlinkat(dirfd, name, isDir ? AT_REMOVEDIR : 0);
  else if (isDir) fs.rmdirSync(at(dirfd, name));
  else fs.unlinkSync(at(dirfd, name));
}

/** mkdir(2) of `name` in `dirfd` (see openIn). */
export function mkdirIn(dirfd: number, name: string, mode: number): void {
  if (haveAt()) mkdirat(dirfd, name, mode);
  else fs.mkdirSync(at(dirfd, name), mode);
}

/** Throws EINVAL unless `name` is one path component the kernel looks up as is. */
export function checkComponent(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw NinepError.errno(Errno.EINVAL, `bad name ${JSON.stringify(name)}`);
  }
}

/** The identity of a file: device and inode. */
export function fileKey(dev: bigint, ino: bigint): string {
  return `${dev}:${ino}`;
}

/** True when /proc/self/fd resolution works here (Linux with procfs mounted). */
export function haveProcFd(): boolean {
  let fd = -1;
  try {
    fd = fs.openSync('/', O_PATH | O_DIRECTORY);
    return fs.statSync(at(fd)).ino === fs.statSync('/').ino;
  } catch {
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** One descriptor on one file, reference counted. */
export class Handle {
  /** The descriptor (O_PATH|O_NOFOLLOW, or a created file's open one); -1 once closed. */
  fd: number;
  readonly dev: bigint;
  readonly ino: bigint;
  /** S_IF* bits of the file. */
  readonly kind: number;
  /** The directory this file was reached from, and its name there; undefined for the root and after "..". */
  parent: Handle | undefined;
  name: string;
  /** The file's identity, `fileKey(dev, ino)` (made once: the registry needs it twice per handle). */
  readonly key: string;
  /** Cached target of a symlink (a symlink's target never changes). */
  target: string | undefined = undefined;
  private refs = 1;
  private readonly reg: HandleRegistry;

  constructor(reg: HandleRegistry, fd: number, st: HostStat, parent: Handle | undefined, name: string) {
    this.reg = reg;
    this.fd = fd;
    this.dev = st.dev;
    this.ino = st.ino;
    this.key = fileKey(st.dev, st.ino);
    this.kind = st.mode & S_IFMT;
    this.parent = parent;
    parent?.retain();
    this.name = name;
    reg.add(this);
  }

  get isDir(): boolean {
    return this.kind === S_IFDIR;
  }

  get isSymlink(): boolean {
    return this.kind === S_IFLNK;
  }

  get isRegular(): boolean {
    return this.kind === S_IFREG;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  /** Drops one reference; the last one closes the descriptor and releases the parent. */
  release(): void {
    if (--this.refs > 0 || this.fd < 0) return;
    this.reg.remove(this);
    try {
      fs.closeSync(this.fd);
    } catch {
      // already gone: nothing to do
    }
    this.fd = -1;
    const p = this.parent;
    this.parent = undefined;
    p?.release();
  }

  /** Re-points the handle at a new directory and name (after a rename through the export). */
  moveTo(dir: Handle, name: string): void {
    if (dir !== this.parent) {
      const old = this.parent;
      this.parent = dir.retain();
      old?.release();
    }
    this.name = name;
  }

  /**
   * The directory and name this file is found under now, checked: `lstat(dir/name)` must be this
   * very file. Throws ENOENT when it is not (removed, or renamed behind the export's back) and
   * EBUSY for the root or a directory reached by "..", which have no name the export knows.
   * The entry may still be swapped between this check and the caller's operation; the directory
   * stays pinned, so that race cannot reach outside the export.
   */
  located(): { dir: Handle; name: string } {
    const dir = this.parent;
    if (dir === undefined) throw NinepError.errno(Errno.EBUSY, 'no parent known for this file');
    let st: HostStat | undefined;
    try {
      st = lstatAt(dir.fd, this.name);
    } catch {
      st = undefined;
    }
    if (st === undefined || st.ino !== this.ino || st.dev !== this.dev) throw NinepError.errno(Errno.ENOENT, 'file moved or removed');
    return { dir, name: this.name };
  }
}

/**
 * The live handles by file identity, so that a rename through one fid re-points them all.
 * Most files have one live handle (a walk, then a clunk): it is kept as itself, and a Set is
 * made only for a second one (a Set per walked file was a tenth of a walk's cost in the service).
 */
export class HandleRegistry {
  private readonly byKey = new Map<string, Handle | Set<Handle>>();

  add(h: Handle): void {
    const k = h.key;
    const s = this.byKey.get(k);
    if (s === undefined) this.byKey.set(k, h);
    else if (s instanceof Set) s.add(h);
    else if (s !== h) this.byKey.set(k, new Set([s, h]));
  }

  remove(h: Handle): void {
    const k = h.key;
    const s = this.byKey.get(k);
    if (s === h) this.byKey.delete(k);
    else if (s instanceof Set) {
      s.delete(h);
      if (s.size === 1) this.byKey.set(k, s.values().next().value!);
    }
  }

  /** After `olddir/oldname` (file `key`) became `newdir/newname`: re-point the handles that knew the old place. */
  renamed(key: string, olddir: Handle, oldname: string, newdir: Handle, newname: string): void {
    const s = this.byKey.get(key);
    if (s === undefined) return;
    for (const h of s instanceof Set ? s : [s]) {
      if (h.name === oldname && h.parent !== undefined && h.parent.ino === olddir.ino && h.parent.dev === olddir.dev) h.moveTo(newdir, newname);
    }
  }

  /** Handles alive now (for tests and leak checks). */
  get size(): number {
    let n = 0;
    for (const s of this.byKey.values()) n += s instanceof Set ? s.size : 1;
    return n;
  }
}

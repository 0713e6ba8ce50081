/**
 * Host stat → 9P: qids a client cache can trust, Rgetattr fields, stat(5) records (9P2000 and
 * .u), dirent types, and Linux open flags → host open flags.
 */
import * as fs from 'node:fs';
import {
  DMDEVICE, DMDIR, DMNAMEDPIPE, DMSETGID, DMSETUID, DMSOCKET, DMSYMLINK, DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG,
  DT_SOCK, DT_UNKNOWN, GETATTR_BASIC, GETATTR_BTIME, L_O_ACCMODE, L_O_APPEND, L_O_DIRECTORY, L_O_DSYNC, L_O_EXCL,
  L_O_NONBLOCK, L_O_SYNC, L_O_TRUNC, QTDIR, QTFILE, QTSYMLINK, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT,
  S_IFREG, S_IFSOCK, type Attr, type Dialect, type Dir, type Qid,
} from '@prose/protocol';
import type { HostStat } from '@prose/posix';


const TWO32 = 4294967296;

/**
 * Qid paths: the inode number for files on the export's own device (as diod does, so clients
 * and tests can compare them with `ls -i`); a file on another device (a mount point below the
 * export) gets its device's index (1, 2, ...) in the top byte, xor-ed into the inode number.
 */
export class QidPaths {
  private readonly devs = new Map<bigint, bigint>();

  constructor(rootDev: bigint) {
    this.devs.set(rootDev, 0n);
  }

  path(dev: bigint, ino: bigint): bigint {
    let i = this.devs.get(dev);
    if (i === undefined) {
      i = BigInt(this.devs.size);
      this.devs.set(dev, i);
    }
    return i === 0n ? ino : ((i & 0xffn) << 56n) ^ ino;
  }
}

/** The QT* type of a host file mode. */
export function qidType(mode: number): number {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? QTDIR : t === S_IFLNK ? QTSYMLINK : QTFILE;
}

/**
 * qid.version: changes whenever the content or the inode changes. Folded from the modification
 * and change times (seconds and nanoseconds) and the size, so a write, a truncate, a chmod or an
 * entry added to a directory each give a new version. (32-bit multiply-xor mixing: every input
 * bit reaches the result, so two states that differ in any of them almost never share a version.)
 */
export function qidVersion(st: HostStat): number {
  let h = Math.imul(st.mtimeSec ^ 0x5bd1e995, 0x9e3779b1) ^ st.mtimeNsec;
  h = Math.imul(h ^ st.ctimeSec, 0x85ebca6b) ^ st.ctimeNsec;
  h = Math.imul(h ^ (st.size % TWO32), 0xc2b2ae35) ^ Math.floor(st.size / TWO32);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2f) >>> 0;
}

/** The qid of a host stat. */
export function qidOf(paths: QidPaths, st: HostStat): Qid {
  return { type: qidType(st.mode), version: qidVersion(st), path: paths.path(st.dev, st.ino) };
}

/** Rgetattr from a host stat (all of GETATTR_BASIC, and btime where the host has it). */
export function attrOf(paths: QidPaths, st: HostStat): Attr {
  const hasBirth = st.birthtimeSec !== 0 || st.birthtimeNsec !== 0;
  return {
    valid: GETATTR_BASIC | (hasBirth ? GETATTR_BTIME : 0),
    qid: qidOf(paths, st),
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    nlink: st.nlink,
    rdev: st.rdev,
    size: st.size,
    blksize: st.blksize,
    blocks: st.blocks,
    atimeSec: st.atimeSec, atimeNsec: st.atimeNsec,
    mtimeSec: st.mtimeSec, mtimeNsec: st.mtimeNsec,
    ctimeSec: st.ctimeSec, ctimeNsec: st.ctimeNsec,
    btimeSec: st.birthtimeSec, btimeNsec: st.birthtimeNsec,
    gen: 0,
    dataVersion: 0,
  };
}

/** The DT_* type of a host mode. */
export function dtOf(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFREG: return DT_REG;
    case S_IFDIR: return DT_DIR;
    case S_IFLNK: return DT_LNK;
    case S_IFIFO: return DT_FIFO;
    case S_IFCHR: return DT_CHR;
    case S_IFBLK: return DT_BLK;
    case S_IFSOCK: return DT_SOCK;
    default: return DT_UNKNOWN;
  }
}

/** The DT_* type of a Node directory entry. */
export function dtOfDirent(d: fs.Dirent): number {
  if (d.isFile()) return DT_REG;
  if (d.isDirectory()) return DT_DIR;
  if (d.isSymbolicLink()) return DT_LNK;
  if (d.isFIFO()) return DT_FIFO;
  if (d.isCharacterDevice()) return DT_CHR;
  if (d.isBlockDevice()) return DT_BLK;
  if (d.isSocket()) return DT_SOCK;
  return DT_UNKNOWN;
}

/** Linux major/minor of a dev_t (glibc's encoding), given as an exact number. */
export function majorMinor(rdev: number): [number, number] {
  const hi = Math.floor(rdev / TWO32);
  const major = (((rdev >>> 8) & 0xfff) | (hi & ~0xfff)) >>> 0;
  const minor = ((rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff)) >>> 0;
  return [major, minor];
}

/** User and group names for stat(5) records: /etc/passwd and /etc/group, read once; numbers otherwise. */
export class Names {
  private readonly users = new Map<number, string>();
  private readonly groups = new Map<number, string>();
  private readonly userIds = new Map<string, number>();
  private readonly groupIds = new Map<string, number>();

  constructor(passwd = '/etc/passwd', group = '/etc/group') {
    load(passwd, this.users, this.userIds);
    load(group, this.groups, this.groupIds);
  }

  user(uid: number): string {
    return this.users.get(uid) ?? String(uid);
  }

  group(gid: number): string {
    return this.groups.get(gid) ?? String(gid);
  }

  /** The uid of a user name or decimal number, or undefined. */
  uidOf(name: string): number | undefined {
    return this.userIds.get(name) ?? (/^\d+$/.test(name) ? Number(name) : undefined);
  }

  gidOf(name: string): number | undefined {
    return this.groupIds.get(name) ?? (/^\d+$/.test(name) ? Number(name) : undefined);
  }
}

function load(file: string, byId: Map<number, string>, byName: Map<string, number>): void {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    const id = Number(f[2]);
    if (!byId.has(id)) byId.set(id, f[0]!);
    if (!byName.has(f[0]!)) byName.set(f[0]!, id);
  }
}

/**
 * A stat(5) record for 9P2000 (and .u: extension, numeric ids). `target` is a symlink's target,
 * needed for .u's extension.
 */
export function dirOf(
  paths: QidPaths, names: Names, st: HostStat, name: string, dialect: Dialect, target?: string,
): Dir {
  const mode = st.mode;
  const t = mode & S_IFMT;
  const dotu = dialect !== '9P2000';
  let m = mode & 0o777;
  let ext = '';
  switch (t) {
    case S_IFDIR: m |= DMDIR; break;
    case S_IFLNK: if (dotu) { m |= DMSYMLINK; ext = target ?? ''; } break;
    case S_IFIFO: if (dotu) m |= DMNAMEDPIPE; break;
    case S_IFSOCK: if (dotu) m |= DMSOCKET; break;
    case S_IFCHR:
    case S_IFBLK:
      if (dotu) {
        m |= DMDEVICE;
        const [maj, min] = majorMinor(st.rdev);
        ext = `${t === S_IFCHR ? 'c' : 'b'} ${maj} ${min}`;
      }
      break;
  }
  if (dotu) {
    if (mode & 0o4000) m |= DMSETUID;
    if (mode & 0o2000) m |= DMSETGID;
  }
  const uid = st.uid;
  const gid = st.gid;
  const d: Dir = {
    type: 0,
    dev: 0,
    qid: qidOf(paths, st),
    mode: m >>> 0,
    atime: st.atimeSec,
    mtime: st.mtimeSec,
    length: t === S_IFDIR ? 0 : st.size,
    name,
    uid: names.user(uid),
    gid: names.group(gid),
    muid: names.user(uid),
  };
  if (dotu) {
    d.extension = ext;
    d.nUid = uid;
    d.nGid = gid;
    d.nMuid = uid;
  }
  return d;
}

/**
 * Host open(2) flags for the Linux flags of a Tlopen/Tlcreate (the .L values are Linux's, so on
 * Linux this is a filter): access mode, O_TRUNC, O_APPEND, O_NONBLOCK, O_DSYNC, O_SYNC,
 * O_DIRECTORY and O_EXCL pass; O_CREAT is the caller's; O_DIRECT (alignment the client cannot
 * know), O_NOATIME (EPERM for non-owners), O_NOCTTY, O_LARGEFILE, O_CLOEXEC and FASYNC are
 * dropped.
 */
export function hostOpenFlags(lflags: number): number {
  const c = fs.constants;
  let f = lflags & L_O_ACCMODE;
  if (lflags & L_O_TRUNC) f |= c.O_TRUNC;
  if (lflags & L_O_APPEND) f |= c.O_APPEND;
  if (lflags & L_O_NONBLOCK) f |= c.O_NONBLOCK;
  if (lflags & L_O_SYNC) f |= c.O_SYNC;
  else if (lflags & L_O_DSYNC) f |= c.O_DSYNC;
  if (lflags & L_O_DIRECTORY) f |= c.O_DIRECTORY;
  if (lflags & L_O_EXCL) f |= c.O_EXCL;
  return f;
}

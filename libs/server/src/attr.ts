/**
 * Mappings between Plan 9 stat records and the 9P2000.L attributes, open flags and dirent
 * types: what lets one Srv written with `stat`/`open`/`dirgen` answer .L clients too.
 */
import {
  DMDEVICE, DMDIR, DMNAMEDPIPE, DMSETGID, DMSETUID, DMSOCKET, DMSYMLINK, DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK,
  DT_REG, DT_SOCK, GETATTR_BASIC, L_O_ACCMODE, L_O_RDWR, L_O_TRUNC, L_O_WRONLY, NONUNAME, OREAD, ORDWR,
  OTRUNC, OWRITE, SETATTR_ATIME, SETATTR_ATIME_SET, SETATTR_MODE, SETATTR_MTIME, SETATTR_MTIME_SET,
  SETATTR_SIZE, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, nullDir, type Attr, type Dir,
  type SetAttr,
} from '@prose/protocol';

/** The Plan 9 open mode for Linux open flags (access mode and O_TRUNC). */
export function omodeOfFlags(flags: number): number {
  let m: number;
  switch (flags & L_O_ACCMODE) {
    case L_O_WRONLY: m = OWRITE; break;
    case L_O_RDWR: m = ORDWR; break;
    default: m = OREAD; break;
  }
  if (flags & L_O_TRUNC) m |= OTRUNC;
  return m;
}

/** The Linux file-type and permission bits of a stat mode. */
export function unixMode(d: Pick<Dir, 'mode' | 'extension'>): number {
  const m = d.mode;
  let t: number;
  if (m & DMDIR) t = S_IFDIR;
  else if (m & DMSYMLINK) t = S_IFLNK;
  else if (m & DMSOCKET) t = S_IFSOCK;
  else if (m & DMNAMEDPIPE) t = S_IFIFO;
  else if (m & DMDEVICE) t = d.extension?.startsWith('b') ? S_IFBLK : S_IFCHR;
  else t = S_IFREG;
  let p = m & 0o777;
  if (m & DMSETUID) p |= 0o4000;
  if (m & DMSETGID) p |= 0o2000;
  return t | p;
}

/** The Rreaddir type (DT_*) of a stat record. */
export function direntType(d: Pick<Dir, 'mode' | 'extension'>): number {
  const m = d.mode;
  if (m & DMDIR) return DT_DIR;
  if (m & DMSYMLINK) return DT_LNK;
  if (m & DMSOCKET) return DT_SOCK;
  if (m & DMNAMEDPIPE) return DT_FIFO;
  if (m & DMDEVICE) return d.extension?.startsWith('b') ? DT_BLK : DT_CHR;
  return DT_REG;
}

function idOf(n: number | undefined): number {
  return n === undefined || n === NONUNAME ? 0 : n;
}

/**
 * Rgetattr fields from a stat record: mode with S_IF* type bits, size, times (ctime = mtime,
 * no nanoseconds), uid/gid from the .u numbers (0 when absent), nlink 1, blocks of 512 bytes.
 */
export function attrOfDir(d: Dir): Attr {
  return {
    valid: GETATTR_BASIC,
    qid: d.qid,
    mode: unixMode(d),
    uid: idOf(d.nUid),
    gid: idOf(d.nGid),
    nlink: d.mode & DMDIR ? 2 : 1,
    rdev: 0,
    size: d.length,
    blksize: 4096,
    blocks: Math.ceil(d.length / 512),
    atimeSec: d.atime, atimeNsec: 0,
    mtimeSec: d.mtime, mtimeNsec: 0,
    ctimeSec: d.mtime, ctimeNsec: 0,
    btimeSec: 0, btimeNsec: 0,
    gen: 0,
    dataVersion: d.qid.version,
  };
}

/**
 * The Twstat record for a Tsetattr: "don't touch" everywhere except mode (keeping the non-
 * permission DM bits of `current`), length, atime and mtime (the current time unless *_SET).
 * Returns undefined when nothing is to change. uid/gid changes are not representable: the
 * caller refuses them.
 */
export function wstatOfSetattr(a: SetAttr, current: Pick<Dir, 'mode'>, nowSec: number): Dir | undefined {
  const d = nullDir();
  let any = false;
  if (a.valid & SETATTR_MODE) {
    let m = (current.mode & ~(0o777 | DMSETUID | DMSETGID)) | (a.mode & 0o777);
    if (a.mode & 0o4000) m |= DMSETUID;
    if (a.mode & 0o2000) m |= DMSETGID;
    d.mode = m >>> 0;
    any = true;
  }
  if (a.valid & SETATTR_SIZE) {
    d.length = a.size;
    any = true;
  }
  if (a.valid & SETATTR_ATIME) {
    d.atime = a.valid & SETATTR_ATIME_SET ? a.atimeSec : nowSec;
    any = true;
  }
  if (a.valid & SETATTR_MTIME) {
    d.mtime = a.valid & SETATTR_MTIME_SET ? a.mtimeSec : nowSec;
    any = true;
  }
  return any ? d : undefined;
}

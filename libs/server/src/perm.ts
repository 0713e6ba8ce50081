/**
 * "Check, don't reply" helpers (Inferno styxservers style): permission bits, open modes and
 * file names. Each returns a verdict or throws the NinepError the client should see.
 */
import {
  DMDIR, DMEXEC, DMREAD, DMWRITE, Ename, Errno, NinepError, ORCLOSE, ORDWR, OREAD, OTRUNC, OWRITE,
  type Dir,
} from '@prose/protocol';

/** Read access, in the bits of one rwx triple (for hasPerm). */
export const AREAD = DMREAD;
/** Write access. */
export const AWRITE = DMWRITE;
/** Execute (search, for directories) access. */
export const AEXEC = DMEXEC;

/**
 * True when `uname` has all of `want` (AREAD|AWRITE|AEXEC) on a file with this owner, group
 * and mode: other bits for everyone, plus owner bits for the owner and group bits for a user
 * named like the group (lib9p hasperm).
 */
export function hasPerm(d: Pick<Dir, 'mode' | 'uid' | 'gid'>, uname: string, want: number): boolean {
  let m = d.mode & 7;
  if (uname === d.uid) m |= (d.mode >>> 6) & 7;
  if (uname === d.gid) m |= (d.mode >>> 3) & 7;
  return (m & want) === want;
}

/** The access an open mode needs (open(5)): OTRUNC also needs write. */
export function openAccess(mode: number): number {
  let p: number;
  switch (mode & 3) {
    case OREAD: p = AREAD; break;
    case OWRITE: p = AWRITE; break;
    case ORDWR: p = AREAD | AWRITE; break;
    default: p = AEXEC; break;
  }
  if (mode & OTRUNC) p |= AWRITE;
  return p;
}

/** Throws "is a directory" unless a directory is opened for reading only (ORCLOSE allowed). */
export function checkDirOpen(isDir: boolean, mode: number): void {
  if (isDir && (mode & ~ORCLOSE) !== OREAD) throw new NinepError(Ename.isdir, Errno.EISDIR);
}

/** Throws "permission denied" unless `uname` may open the file with `mode`. */
export function checkOpenPerm(d: Dir, uname: string, mode: number): void {
  if (!hasPerm(d, uname, openAccess(mode))) throw new NinepError(Ename.perm, Errno.EACCES);
}

/**
 * The permissions of a file created in a directory of mode `dirMode` (open(5)): a directory
 * gets perm & (~0777 | dir&0777), a file perm & (~0666 | dir&0666).
 */
export function createPerm(perm: number, dirMode: number): number {
  const mask = perm & DMDIR ? 0o777 : 0o666;
  return ((perm & ~mask) | (perm & dirMode & mask)) >>> 0;
}

/** True for a name a directory may hold: not "", ".", "..", no "/" and no NUL. */
export function isValidName(name: string): boolean {
  if (name === '' || name === '.' || name === '..') return false;
  return name.indexOf('/') < 0 && name.indexOf('\0') < 0;
}

/** Throws "bad character in file name" (EINVAL) unless `isValidName(name)`. */
export function checkName(name: string): void {
  if (!isValidName(name)) throw new NinepError(Ename.badname, Errno.EINVAL);
}

/** True for a name a walk may take: like isValidName, but ".." is a step up. */
export function isWalkName(name: string): boolean {
  return name === '..' || isValidName(name);
}

/**
 * @prose/posix — the Linux calls Node lacks, through a small native addon: extended attributes
 * (get, list, set, remove; on a path, on a path without following, on a descriptor),
 * getdents64 batches with inode numbers and types, big writes in pieces off the event loop, and
 * openat/unlinkat/mkdirat (calls relative to a directory descriptor), and stat through statx(2)
 * into plain numbers (HostStat) instead of Node's BigInt-laden Stats. Without the addon the stat
 * calls fall back to Node's stat, and every other call throws a PosixError (ENOSYS) that says how
 * to build it; `havePosix()` tells beforehand.
 */
export { PosixError } from './errors.js';
export { havePosix } from './native.js';
export {
  XATTR_CREATE, XATTR_REPLACE, XATTR_SIZE_MAX, getxattr, lgetxattr, fgetxattr, listxattr, llistxattr, flistxattr,
  listxattrRaw, setxattr, lsetxattr, fsetxattr, removexattr, lremovexattr, fremovexattr,
} from './xattr.js';
export { pwritePieces, WRITE_PIECE } from './write.js';
export { AT_REMOVEDIR, haveAtCalls, mkdirat, openat, tryOpenat, unlinkat } from './at.js';
export { fromNodeStats, fstat, haveStatx, lstat, lstatAt, type HostStat } from './stat.js';
export {
  getdents, readDirectory, readDirectoryEncoded, readDirectoryJoined, readDirents, DENTS_BUF, type DirEntries,
  type DirEntriesEncoded, type DirEntriesJoined, type Dirent64,
} from './dents.js';

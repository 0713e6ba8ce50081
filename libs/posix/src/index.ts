/**
 * @prose/posix — the Linux calls Node lacks, through a small native addon: extended attributes
 * (get, list, set, remove; on a path, on a path without following, on a descriptor),
 * getdents64 batches with inode numbers and types, big writes in pieces off the event loop, and
 * openat/unlinkat/mkdirat (calls relative to a directory descriptor), file mappings only the
 * kernel reads (filemap.ts), recycled memory for big Buffers (recycle.ts), and stat through
 * statx(2) into plain numbers (HostStat) instead of Node's BigInt-laden Stats. Without the addon the stat calls fall back to Node's stat, and every
 * other call throws a PosixError (ENOSYS) that says how to build it; `havePosix()` tells beforehand.
 */
import * as fromErrors from './errors.js';
import * as fromNative from './native.js';
import * as fromXattr from './xattr.js';
import * as fromWrite from './write.js';
import * as fromAt from './at.js';
import * as fromStat from './stat.js';
import * as fromDents from './dents.js';
import * as fromSockio from './sockio.js';
import * as fromFilemap from './filemap.js';
import * as fromRecycle from './recycle.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import PosixError = fromErrors.PosixError;
export import havePosix = fromNative.havePosix;
export import XATTR_CREATE = fromXattr.XATTR_CREATE;
export import XATTR_REPLACE = fromXattr.XATTR_REPLACE;
export import XATTR_SIZE_MAX = fromXattr.XATTR_SIZE_MAX;
export import getxattr = fromXattr.getxattr;
export import lgetxattr = fromXattr.lgetxattr;
export import fgetxattr = fromXattr.fgetxattr;
export import listxattr = fromXattr.listxattr;
export import llistxattr = fromXattr.llistxattr;
export import flistxattr = fromXattr.flistxattr;
export import listxattrRaw = fromXattr.listxattrRaw;
export import setxattr = fromXattr.setxattr;
export import lsetxattr = fromXattr.lsetxattr;
export import fsetxattr = fromXattr.fsetxattr;
export import removexattr = fromXattr.removexattr;
export import lremovexattr = fromXattr.lremovexattr;
export import fremovexattr = fromXattr.fremovexattr;
export import pwritePieces = fromWrite.pwritePieces;
export import WRITE_PIECE = fromWrite.WRITE_PIECE;
export import AT_REMOVEDIR = fromAt.AT_REMOVEDIR;
export import haveAtCalls = fromAt.haveAtCalls;
export import mkdirat = fromAt.mkdirat;
export import openat = fromAt.openat;
export import tryOpenat = fromAt.tryOpenat;
export import unlinkat = fromAt.unlinkat;
export import fromNodeStats = fromStat.fromNodeStats;
export import fstat = fromStat.fstat;
export import haveStatx = fromStat.haveStatx;
export import lstat = fromStat.lstat;
export import lstatAt = fromStat.lstatAt;
export type { HostStat } from './stat.js';
export import getdents = fromDents.getdents;
export import readDirectory = fromDents.readDirectory;
export import readDirectoryEncoded = fromDents.readDirectoryEncoded;
export import readDirectoryJoined = fromDents.readDirectoryJoined;
export import readDirents = fromDents.readDirents;
export import DENTS_BUF = fromDents.DENTS_BUF;
export type { DirEntries, DirEntriesEncoded, DirEntriesJoined, Dirent64 } from './dents.js';
export import sockIo = fromSockio.sockIo;
export import WATCH_READABLE = fromSockio.WATCH_READABLE;
export import WATCH_WRITABLE = fromSockio.WATCH_WRITABLE;
export import WRITEV_MAX = fromSockio.WRITEV_MAX;
export type { FdWatch, SockIo } from './sockio.js';
export import fileMap = fromFilemap.fileMap;
export type { FileMap } from './filemap.js';
export import recycler = fromRecycle.recycler;
export type { Recycler } from './recycle.js';

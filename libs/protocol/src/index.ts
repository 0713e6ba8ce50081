/**
 * @prose/protocol — 9P2000, 9P2000.u and 9P2000.L messages: types, codec, text form, errors,
 * framing and version negotiation. No dependencies beyond node: built-ins.
 */
// Every value is re-exported by name. Compiled to CommonJS, `export *` reads each value through
// one getter shared by all of them, which V8 cannot inline (it showed up as ~10% of a null
// Twrite round trip); a named re-export has a getter of its own that V8 inlines. The `export *`
// lines below add only the types.
export {
  MsgType, MSG_NAMES, MSG_TYPES, NOTAG, NOFID, NONUNAME, MAXWELEM, IOHDRSZ, HEADER_SIZE, QID_SIZE, VERSION9P,
  VERSION9PU, VERSION9PL, UNKNOWN_VERSION, QTDIR, QTAPPEND, QTEXCL, QTMOUNT, QTAUTH, QTTMP, QTSYMLINK, QTLINK,
  QTFILE, DMDIR, DMAPPEND, DMEXCL, DMMOUNT, DMAUTH, DMTMP, DMSYMLINK, DMLINK, DMDEVICE, DMNAMEDPIPE, DMSOCKET,
  DMSETUID, DMSETGID, DMREAD, DMWRITE, DMEXEC, OREAD, OWRITE, ORDWR, OEXEC, OTRUNC, OCEXEC, ORCLOSE, OAPPEND,
  OEXCL, L_O_RDONLY, L_O_WRONLY, L_O_RDWR, L_O_ACCMODE, L_O_CREAT, L_O_EXCL, L_O_NOCTTY, L_O_TRUNC,
  L_O_APPEND, L_O_NONBLOCK, L_O_DSYNC, L_O_FASYNC, L_O_DIRECT, L_O_LARGEFILE, L_O_DIRECTORY, L_O_NOFOLLOW,
  L_O_NOATIME, L_O_CLOEXEC, L_O_SYNC, GETATTR_MODE, GETATTR_NLINK, GETATTR_UID, GETATTR_GID, GETATTR_RDEV,
  GETATTR_ATIME, GETATTR_MTIME, GETATTR_CTIME, GETATTR_INO, GETATTR_SIZE, GETATTR_BLOCKS, GETATTR_BTIME,
  GETATTR_GEN, GETATTR_DATA_VERSION, GETATTR_BASIC, GETATTR_ALL, SETATTR_MODE, SETATTR_UID, SETATTR_GID,
  SETATTR_SIZE, SETATTR_ATIME, SETATTR_MTIME, SETATTR_CTIME, SETATTR_ATIME_SET, SETATTR_MTIME_SET,
  LOCK_TYPE_RDLCK, LOCK_TYPE_WRLCK, LOCK_TYPE_UNLCK, LOCK_FLAGS_BLOCK, LOCK_FLAGS_RECLAIM, LOCK_SUCCESS,
  LOCK_BLOCKED, LOCK_ERROR, LOCK_GRACE, AT_REMOVEDIR, DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG,
  DT_LNK, DT_SOCK, S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO, V9FS_MAGIC,
} from './constants.js';
export {
  Errno, Ename, NinepError, errnoText, textErrno, errnoName, isUnexpected,
} from './errors.js';
export {
  isTmessage,
} from './fcall.js';
export * from './constants.js';
export * from './fcall.js';
export * from './errors.js';
export { encode, encodeVec, decode, peekHeader } from './codec.js';
export {
  writeDir, readDir, packDir, unpackDirs, nullDir, isDontTouchLength, direntSize, writeDirent, packDirents,
  unpackDirents, direntsFit, DIRENT_HEAD,
} from './dir.js';
export { DirentList } from './dirent-list.js';
export { Reader, Writer, get16, get32, malformed, view } from './wire.js';
export { Framer, FrameError, checkFrameSize } from './framer.js';
export { chooseVersion, dialectOf, type VersionChoice } from './version.js';
export { formatFcall, formatQid, parseFcall, matchText, tokenize, type FormatOptions } from './text.js';

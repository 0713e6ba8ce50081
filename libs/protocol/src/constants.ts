/**
 * Numbers of the 9P wire: message types of 9P2000, 9P2000.u and 9P2000.L, and the
 * constants of intro(5), open(5), stat(5) and the Linux 9P2000.L protocol description.
 */

/** Message type byte. T-messages are even, their R-message is type+1. */
export enum MsgType {
  Tlerror = 6, Rlerror = 7,
  Tstatfs = 8, Rstatfs = 9,
  Tlopen = 12, Rlopen = 13,
  Tlcreate = 14, Rlcreate = 15,
  Tsymlink = 16, Rsymlink = 17,
  Tmknod = 18, Rmknod = 19,
  Trename = 20, Rrename = 21,
  Treadlink = 22, Rreadlink = 23,
  Tgetattr = 24, Rgetattr = 25,
  Tsetattr = 26, Rsetattr = 27,
  Txattrwalk = 30, Rxattrwalk = 31,
  Txattrcreate = 32, Rxattrcreate = 33,
  Treaddir = 40, Rreaddir = 41,
  Tfsync = 50, Rfsync = 51,
  Tlock = 52, Rlock = 53,
  Tgetlock = 54, Rgetlock = 55,
  Tlink = 70, Rlink = 71,
  Tmkdir = 72, Rmkdir = 73,
  Trenameat = 74, Rrenameat = 75,
  Tunlinkat = 76, Runlinkat = 77,
  Tversion = 100, Rversion = 101,
  Tauth = 102, Rauth = 103,
  Tattach = 104, Rattach = 105,
  Terror = 106, Rerror = 107,
  Tflush = 108, Rflush = 109,
  Twalk = 110, Rwalk = 111,
  Topen = 112, Ropen = 113,
  Tcreate = 114, Rcreate = 115,
  Tread = 116, Rread = 117,
  Twrite = 118, Rwrite = 119,
  Tclunk = 120, Rclunk = 121,
  Tremove = 122, Rremove = 123,
  Tstat = 124, Rstat = 125,
  Twstat = 126, Rwstat = 127,
}

/** The name of every message type, indexed by its number (for traces and the text form). */
export const MSG_NAMES: Readonly<Record<number, string>> = {
  6: 'Tlerror', 7: 'Rlerror', 8: 'Tstatfs', 9: 'Rstatfs', 12: 'Tlopen', 13: 'Rlopen',
  14: 'Tlcreate', 15: 'Rlcreate', 16: 'Tsymlink', 17: 'Rsymlink', 18: 'Tmknod', 19: 'Rmknod',
  20: 'Trename', 21: 'Rrename', 22: 'Treadlink', 23: 'Rreadlink', 24: 'Tgetattr', 25: 'Rgetattr',
  26: 'Tsetattr', 27: 'Rsetattr', 30: 'Txattrwalk', 31: 'Rxattrwalk', 32: 'Txattrcreate',
  33: 'Rxattrcreate', 40: 'Treaddir', 41: 'Rreaddir', 50: 'Tfsync', 51: 'Rfsync', 52: 'Tlock',
  53: 'Rlock', 54: 'Tgetlock', 55: 'Rgetlock', 70: 'Tlink', 71: 'Rlink', 72: 'Tmkdir', 73: 'Rmkdir',
  74: 'Trenameat', 75: 'Rrenameat', 76: 'Tunlinkat', 77: 'Runlinkat',
  100: 'Tversion', 101: 'Rversion', 102: 'Tauth', 103: 'Rauth', 104: 'Tattach', 105: 'Rattach',
  106: 'Terror', 107: 'Rerror', 108: 'Tflush', 109: 'Rflush', 110: 'Twalk', 111: 'Rwalk',
  112: 'Topen', 113: 'Ropen', 114: 'Tcreate', 115: 'Rcreate', 116: 'Tread', 117: 'Rread',
  118: 'Twrite', 119: 'Rwrite', 120: 'Tclunk', 121: 'Rclunk', 122: 'Tremove', 123: 'Rremove',
  124: 'Tstat', 125: 'Rstat', 126: 'Twstat', 127: 'Rwstat',
};

/** The number of a message type by name, the inverse of MSG_NAMES. */
export const MSG_TYPES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(MSG_NAMES).map(([n, name]) => [name, Number(n)]),
);

export const NOTAG = 0xffff;
export const NOFID = 0xffffffff;
/** ~0 in a 4-byte field: "no uid" in .u/.L (n_uname) and "don't touch" in wstat. */
export const NONUNAME = 0xffffffff;
/** Most names in one Twalk (intro(5)). */
export const MAXWELEM = 16;
/** size[4] type[1] tag[2] fid[4] offset[8] count[4]: the largest header in front of Tread/Twrite data. */
export const IOHDRSZ = 24;
/** Every message starts with size[4] type[1] tag[2]. */
export const HEADER_SIZE = 7;
export const QID_SIZE = 13;
/** The versions this codec speaks. */
export const VERSION9P = '9P2000';
export const VERSION9PU = '9P2000.u';
export const VERSION9PL = '9P2000.L';
export const UNKNOWN_VERSION = 'unknown';

/** Qid.type bits (intro(5)). */
export const QTDIR = 0x80;
export const QTAPPEND = 0x40;
export const QTEXCL = 0x20;
export const QTMOUNT = 0x10;
export const QTAUTH = 0x08;
export const QTTMP = 0x04;
export const QTSYMLINK = 0x02;
export const QTLINK = 0x01;
export const QTFILE = 0x00;

/** Dir.mode bits (stat(5)), with the 9P2000.u extensions. */
export const DMDIR = 0x80000000;
export const DMAPPEND = 0x40000000;
export const DMEXCL = 0x20000000;
export const DMMOUNT = 0x10000000;
export const DMAUTH = 0x08000000;
export const DMTMP = 0x04000000;
export const DMSYMLINK = 0x02000000;
export const DMLINK = 0x01000000;
export const DMDEVICE = 0x00800000;
export const DMNAMEDPIPE = 0x00200000;
export const DMSOCKET = 0x00100000;
export const DMSETUID = 0x00080000;
export const DMSETGID = 0x00040000;
export const DMREAD = 0o4;
export const DMWRITE = 0o2;
export const DMEXEC = 0o1;

/** Topen/Tcreate mode (open(5)). */
export const OREAD = 0;
export const OWRITE = 1;
export const ORDWR = 2;
export const OEXEC = 3;
export const OTRUNC = 0x10;
export const OCEXEC = 0x20;
export const ORCLOSE = 0x40;
export const OAPPEND = 0x80;
export const OEXCL = 0x1000;

/** Tlopen/Tlcreate flags: Linux open(2) values, fixed by the .L protocol (not the host's). */
export const L_O_RDONLY = 0o0;
export const L_O_WRONLY = 0o1;
export const L_O_RDWR = 0o2;
export const L_O_ACCMODE = 0o3;
export const L_O_CREAT = 0o100;
export const L_O_EXCL = 0o200;
export const L_O_NOCTTY = 0o400;
export const L_O_TRUNC = 0o1000;
export const L_O_APPEND = 0o2000;
export const L_O_NONBLOCK = 0o4000;
export const L_O_DSYNC = 0o10000;
export const L_O_FASYNC = 0o20000;
export const L_O_DIRECT = 0o40000;
export const L_O_LARGEFILE = 0o100000;
export const L_O_DIRECTORY = 0o200000;
export const L_O_NOFOLLOW = 0o400000;
export const L_O_NOATIME = 0o1000000;
export const L_O_CLOEXEC = 0o2000000;
export const L_O_SYNC = 0o4000000;

/** Tgetattr request_mask / Rgetattr valid bits. */
export const GETATTR_MODE = 0x1;
export const GETATTR_NLINK = 0x2;
export const GETATTR_UID = 0x4;
export const GETATTR_GID = 0x8;
export const GETATTR_RDEV = 0x10;
export const GETATTR_ATIME = 0x20;
export const GETATTR_MTIME = 0x40;
export const GETATTR_CTIME = 0x80;
export const GETATTR_INO = 0x100;
export const GETATTR_SIZE = 0x200;
export const GETATTR_BLOCKS = 0x400;
export const GETATTR_BTIME = 0x800;
export const GETATTR_GEN = 0x1000;
export const GETATTR_DATA_VERSION = 0x2000;
export const GETATTR_BASIC = 0x7ff;
export const GETATTR_ALL = 0x3fff;

/** Tsetattr valid bits. */
export const SETATTR_MODE = 0x1;
export const SETATTR_UID = 0x2;
export const SETATTR_GID = 0x4;
export const SETATTR_SIZE = 0x8;
export const SETATTR_ATIME = 0x10;
export const SETATTR_MTIME = 0x20;
export const SETATTR_CTIME = 0x40;
export const SETATTR_ATIME_SET = 0x80;
export const SETATTR_MTIME_SET = 0x100;

/** Tlock/Tgetlock type, Tlock flags, Rlock status. */
export const LOCK_TYPE_RDLCK = 0;
export const LOCK_TYPE_WRLCK = 1;
export const LOCK_TYPE_UNLCK = 2;
export const LOCK_FLAGS_BLOCK = 1;
export const LOCK_FLAGS_RECLAIM = 2;
export const LOCK_SUCCESS = 0;
export const LOCK_BLOCKED = 1;
export const LOCK_ERROR = 2;
export const LOCK_GRACE = 3;

/** Tunlinkat flags. */
export const AT_REMOVEDIR = 0x200;

/** Treaddir dirent type: the d_type values of Linux. */
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

/** Linux S_IF* file-type bits carried in .L modes. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o60000;
export const S_IFDIR = 0o40000;
export const S_IFCHR = 0o20000;
export const S_IFIFO = 0o10000;

/** Rstatfs.type that v9fs reports when the server does not pass the host's through. */
export const V9FS_MAGIC = 0x01021997;

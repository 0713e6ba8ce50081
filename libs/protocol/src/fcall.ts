/**
 * The shape of every 9P message: one discriminated union, `Fcall`, keyed by `type`.
 *
 * Numeric 8-byte fields are `number` (exact up to 2^53; offsets, sizes, times, masks)
 * except the ones that are identifiers and may use all 64 bits: `Qid.path` and
 * `Rstatfs.fsid` are `bigint`. Payloads (`data`) are Buffer views: decode never copies them.
 */
import { MsgType } from './constants.js';

/** The three dialects of the codec; extensions (a version suffix) ride on one of them. */
export type Dialect = '9P2000' | '9P2000.u' | '9P2000.L';

/** The server's unique identification of a file (intro(5)). */
export interface Qid {
  /** QT* bits. */
  type: number;
  version: number;
  path: bigint;
}

/** A stat(5) record. The .u fields are present when the dialect is not plain 9P2000. */
export interface Dir {
  type: number;
  dev: number;
  qid: Qid;
  /** DM* permission and type bits. */
  mode: number;
  atime: number;
  mtime: number;
  length: number;
  name: string;
  uid: string;
  gid: string;
  muid: string;
  /** 9P2000.u: symlink target, device "b 1 2" / "c 1 2", hard link. */
  extension?: string;
  nUid?: number;
  nGid?: number;
  nMuid?: number;
}

/** One entry of an Rreaddir payload (9P2000.L). */
export interface Dirent {
  qid: Qid;
  /** Cookie to pass as Treaddir.offset to continue after this entry. */
  offset: number;
  /**
   * The exact cookie, present only when it is above 2^53 and so not exact in `offset` (ext4's
   * hash cookies are 63-bit): send it back as Treaddir.cookie.
   */
  cookie?: bigint;
  /** DT_* type. */
  type: number;
  name: string;
}

interface Base { tag: number }

export interface Tversion extends Base { type: MsgType.Tversion; msize: number; version: string }
export interface Rversion extends Base { type: MsgType.Rversion; msize: number; version: string }
export interface Tauth extends Base { type: MsgType.Tauth; afid: number; uname: string; aname: string; nUname?: number }
export interface Rauth extends Base { type: MsgType.Rauth; aqid: Qid }
export interface Tattach extends Base { type: MsgType.Tattach; fid: number; afid: number; uname: string; aname: string; nUname?: number }
export interface Rattach extends Base { type: MsgType.Rattach; qid: Qid }
export interface Rerror extends Base { type: MsgType.Rerror; ename: string; errno?: number }
export interface Rlerror extends Base { type: MsgType.Rlerror; ecode: number }
export interface Tflush extends Base { type: MsgType.Tflush; oldtag: number }
export interface Rflush extends Base { type: MsgType.Rflush }
export interface Twalk extends Base { type: MsgType.Twalk; fid: number; newfid: number; wname: string[] }
export interface Rwalk extends Base { type: MsgType.Rwalk; wqid: Qid[] }
export interface Topen extends Base { type: MsgType.Topen; fid: number; mode: number }
export interface Ropen extends Base { type: MsgType.Ropen; qid: Qid; iounit: number }
export interface Tcreate extends Base { type: MsgType.Tcreate; fid: number; name: string; perm: number; mode: number; extension?: string }
export interface Rcreate extends Base { type: MsgType.Rcreate; qid: Qid; iounit: number }
export interface Tread extends Base { type: MsgType.Tread; fid: number; offset: number; count: number }
export interface Rread extends Base { type: MsgType.Rread; data: Buffer }
export interface Twrite extends Base { type: MsgType.Twrite; fid: number; offset: number; data: Buffer }
export interface Rwrite extends Base { type: MsgType.Rwrite; count: number }
export interface Tclunk extends Base { type: MsgType.Tclunk; fid: number }
export interface Rclunk extends Base { type: MsgType.Rclunk }
export interface Tremove extends Base { type: MsgType.Tremove; fid: number }
export interface Rremove extends Base { type: MsgType.Rremove }
export interface Tstat extends Base { type: MsgType.Tstat; fid: number }
export interface Rstat extends Base { type: MsgType.Rstat; stat: Dir }
export interface Twstat extends Base { type: MsgType.Twstat; fid: number; stat: Dir }
export interface Rwstat extends Base { type: MsgType.Rwstat }

export interface Tstatfs extends Base { type: MsgType.Tstatfs; fid: number }
export interface Rstatfs extends Base {
  type: MsgType.Rstatfs; fsType: number; bsize: number; blocks: number; bfree: number; bavail: number;
  files: number; ffree: number; fsid: bigint; namelen: number;
}
export interface Tlopen extends Base { type: MsgType.Tlopen; fid: number; flags: number }
export interface Rlopen extends Base { type: MsgType.Rlopen; qid: Qid; iounit: number }
export interface Tlcreate extends Base { type: MsgType.Tlcreate; fid: number; name: string; flags: number; mode: number; gid: number }
export interface Rlcreate extends Base { type: MsgType.Rlcreate; qid: Qid; iounit: number }
export interface Tsymlink extends Base { type: MsgType.Tsymlink; fid: number; name: string; symtgt: string; gid: number }
export interface Rsymlink extends Base { type: MsgType.Rsymlink; qid: Qid }
export interface Tmknod extends Base { type: MsgType.Tmknod; dfid: number; name: string; mode: number; major: number; minor: number; gid: number }
export interface Rmknod extends Base { type: MsgType.Rmknod; qid: Qid }
export interface Trename extends Base { type: MsgType.Trename; fid: number; dfid: number; name: string }
export interface Rrename extends Base { type: MsgType.Rrename }
export interface Treadlink extends Base { type: MsgType.Treadlink; fid: number }
export interface Rreadlink extends Base { type: MsgType.Rreadlink; target: string }
export interface Tgetattr extends Base { type: MsgType.Tgetattr; fid: number; requestMask: number }
export interface Attr {
  valid: number; qid: Qid; mode: number; uid: number; gid: number; nlink: number; rdev: number;
  size: number; blksize: number; blocks: number;
  atimeSec: number; atimeNsec: number; mtimeSec: number; mtimeNsec: number;
  ctimeSec: number; ctimeNsec: number; btimeSec: number; btimeNsec: number;
  gen: number; dataVersion: number;
}
export interface Rgetattr extends Base, Attr { type: MsgType.Rgetattr }
export interface SetAttr {
  valid: number; mode: number; uid: number; gid: number; size: number;
  atimeSec: number; atimeNsec: number; mtimeSec: number; mtimeNsec: number;
}
export interface Tsetattr extends Base, SetAttr { type: MsgType.Tsetattr; fid: number }
export interface Rsetattr extends Base { type: MsgType.Rsetattr }
export interface Txattrwalk extends Base { type: MsgType.Txattrwalk; fid: number; newfid: number; name: string }
export interface Rxattrwalk extends Base { type: MsgType.Rxattrwalk; size: number }
export interface Txattrcreate extends Base { type: MsgType.Txattrcreate; fid: number; name: string; attrSize: number; flags: number }
export interface Rxattrcreate extends Base { type: MsgType.Rxattrcreate }
export interface Treaddir extends Base {
  type: MsgType.Treaddir; fid: number; offset: number; count: number;
  /** The exact offset when it is above 2^53 (see Dirent.cookie); encode prefers it to `offset`. */
  cookie?: bigint;
}
export interface Rreaddir extends Base { type: MsgType.Rreaddir; data: Buffer }
export interface Tfsync extends Base { type: MsgType.Tfsync; fid: number; datasync: number }
export interface Rfsync extends Base { type: MsgType.Rfsync }
export interface Tlock extends Base {
  type: MsgType.Tlock; fid: number; lockType: number; flags: number; start: number; length: number;
  procId: number; clientId: string;
}
export interface Rlock extends Base { type: MsgType.Rlock; status: number }
export interface Tgetlock extends Base {
  type: MsgType.Tgetlock; fid: number; lockType: number; start: number; length: number; procId: number; clientId: string;
}
export interface Rgetlock extends Base {
  type: MsgType.Rgetlock; lockType: number; start: number; length: number; procId: number; clientId: string;
}
export interface Tlink extends Base { type: MsgType.Tlink; dfid: number; fid: number; name: string }
export interface Rlink extends Base { type: MsgType.Rlink }
export interface Tmkdir extends Base { type: MsgType.Tmkdir; dfid: number; name: string; mode: number; gid: number }
export interface Rmkdir extends Base { type: MsgType.Rmkdir; qid: Qid }
export interface Trenameat extends Base { type: MsgType.Trenameat; olddirfid: number; oldname: string; newdirfid: number; newname: string }
export interface Rrenameat extends Base { type: MsgType.Rrenameat }
export interface Tunlinkat extends Base { type: MsgType.Tunlinkat; dirfd: number; name: string; flags: number }
export interface Runlinkat extends Base { type: MsgType.Runlinkat }

/** Every T-message. */
export type TMessage =
  | Tversion | Tauth | Tattach | Tflush | Twalk | Topen | Tcreate | Tread | Twrite | Tclunk | Tremove
  | Tstat | Twstat | Tstatfs | Tlopen | Tlcreate | Tsymlink | Tmknod | Trename | Treadlink | Tgetattr
  | Tsetattr | Txattrwalk | Txattrcreate | Treaddir | Tfsync | Tlock | Tgetlock | Tlink | Tmkdir
  | Trenameat | Tunlinkat;

/** Every R-message. */
export type RMessage =
  | Rversion | Rauth | Rattach | Rerror | Rlerror | Rflush | Rwalk | Ropen | Rcreate | Rread | Rwrite
  | Rclunk | Rremove | Rstat | Rwstat | Rstatfs | Rlopen | Rlcreate | Rsymlink | Rmknod | Rrename
  | Rreadlink | Rgetattr | Rsetattr | Rxattrwalk | Rxattrcreate | Rreaddir | Rfsync | Rlock | Rgetlock
  | Rlink | Rmkdir | Rrenameat | Runlinkat;

/** One 9P message. */
export type Fcall = TMessage | RMessage;

/** The message of a given type, e.g. `FcallOf<MsgType.Twalk>` is `Twalk`. */
export type FcallOf<T extends MsgType> = Extract<Fcall, { type: T }>;

/** The fields of a message without `type` and `tag`: what a handler returns for its R-message. */
export type Body<T extends MsgType> = Omit<FcallOf<T>, 'type' | 'tag'>;

/** True when a message is a T-message (even type). */
export function isTmessage(f: Fcall): f is TMessage {
  return (f.type & 1) === 0;
}

/**
 * The R-message that answers each T-message, as a type: `rpc(Twalk)` resolves with an Rwalk.
 */
import type {
  MsgType, FcallOf, Rattach, Rauth, Rclunk, Rcreate, Rflush, Rfsync, Rgetattr, Rgetlock, Rlcreate, Rlink, Rlock,
  Rlopen, Rmkdir, Rmknod, Ropen, Rread, Rreaddir, Rreadlink, Rremove, Rrename, Rrenameat, Rsetattr, Rstat, Rstatfs,
  Rsymlink, Runlinkat, Rversion, Rwalk, Rwrite, Rwstat, Rxattrcreate, Rxattrwalk,
} from '@prose/protocol';

/** T-message type → its R-message. */
export interface ReplyTo {
  [MsgType.Tversion]: Rversion;
  [MsgType.Tauth]: Rauth;
  [MsgType.Tattach]: Rattach;
  [MsgType.Tflush]: Rflush;
  [MsgType.Twalk]: Rwalk;
  [MsgType.Topen]: Ropen;
  [MsgType.Tcreate]: Rcreate;
  [MsgType.Tread]: Rread;
  [MsgType.Twrite]: Rwrite;
  [MsgType.Tclunk]: Rclunk;
  [MsgType.Tremove]: Rremove;
  [MsgType.Tstat]: Rstat;
  [MsgType.Twstat]: Rwstat;
  [MsgType.Tstatfs]: Rstatfs;
  [MsgType.Tlopen]: Rlopen;
  [MsgType.Tlcreate]: Rlcreate;
  [MsgType.Tsymlink]: Rsymlink;
  [MsgType.Tmknod]: Rmknod;
  [MsgType.Trename]: Rrename;
  [MsgType.Treadlink]: Rreadlink;
  [MsgType.Tgetattr]: Rgetattr;
  [MsgType.Tsetattr]: Rsetattr;
  [MsgType.Txattrwalk]: Rxattrwalk;
  [MsgType.Txattrcreate]: Rxattrcreate;
  [MsgType.Treaddir]: Rreaddir;
  [MsgType.Tfsync]: Rfsync;
  [MsgType.Tlock]: Rlock;
  [MsgType.Tgetlock]: Rgetlock;
  [MsgType.Tlink]: Rlink;
  [MsgType.Tmkdir]: Rmkdir;
  [MsgType.Trenameat]: Rrenameat;
  [MsgType.Tunlinkat]: Runlinkat;
}

/** A T-message without its tag (the client assigns tags); any `tag` given is ignored. */
export type Request<K extends keyof ReplyTo = keyof ReplyTo> = K extends keyof ReplyTo
  ? Omit<FcallOf<K>, 'tag'> & { tag?: number }
  : never;

/**
 * Which op answers which T-message. Tversion is the session's own; anything not listed here
 * (R-messages, Terror, unknown types) is answered "unexpected message type".
 */
import { MsgType } from '@prose/protocol';
import { opFlush } from './flush.js';
import { opAttach, opAuth, opClunk, opCreate, opOpen, opRead, opRemove, opStat, opWrite, opWstat } from './ops.js';
import {
  opFsync, opGetattr, opGetlock, opLcreate, opLink, opLock, opLopen, opMkdir, opMknod, opReaddir, opReadlink,
  opRename, opRenameat, opSetattr, opStatfs, opSymlink, opUnlinkat, opXattrcreate, opXattrwalk,
} from './ops-dotl.js';
import type { Req } from './req.js';
import type { Session } from './session.js';
import { opWalk } from './walk.js';

/** An op: checks, calls the Srv, and returns the reply (or a value for `req.post`), maybe later. */
export type Op = (s: Session, r: Req<any>) => unknown;

/** @internal Ops indexed by T-message type. */
export const OPS: Array<Op | undefined> = Array.from({ length: 128 }, () => undefined);

const table: Array<[MsgType, Op]> = [
  [MsgType.Tauth, opAuth], [MsgType.Tattach, opAttach], [MsgType.Tflush, opFlush], [MsgType.Twalk, opWalk],
  [MsgType.Topen, opOpen], [MsgType.Tcreate, opCreate], [MsgType.Tread, opRead], [MsgType.Twrite, opWrite],
  [MsgType.Tclunk, opClunk], [MsgType.Tremove, opRemove], [MsgType.Tstat, opStat], [MsgType.Twstat, opWstat],
  [MsgType.Tstatfs, opStatfs], [MsgType.Tlopen, opLopen], [MsgType.Tlcreate, opLcreate],
  [MsgType.Tsymlink, opSymlink], [MsgType.Tmknod, opMknod], [MsgType.Trename, opRename],
  [MsgType.Treadlink, opReadlink], [MsgType.Tgetattr, opGetattr], [MsgType.Tsetattr, opSetattr],
  [MsgType.Txattrwalk, opXattrwalk], [MsgType.Txattrcreate, opXattrcreate], [MsgType.Treaddir, opReaddir],
  [MsgType.Tfsync, opFsync], [MsgType.Tlock, opLock], [MsgType.Tgetlock, opGetlock], [MsgType.Tlink, opLink],
  [MsgType.Tmkdir, opMkdir], [MsgType.Trenameat, opRenameat], [MsgType.Tunlinkat, opUnlinkat],
];
for (const [type, op] of table) OPS[type] = op;

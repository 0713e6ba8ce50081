/**
 * @prose/server — a 9P server framework (9P2000, 9P2000.u, 9P2000.L) after lib9p/srv9p:
 * sessions with fid and tag tables, version negotiation, flush, limits and one reply path
 * (server.ts, session.ts and the op modules), a Srv callback table (srv.ts), and a tree API for
 * synthetic files (node.ts, tree.ts, clone.ts, ctl.ts, blocking.ts, read-helpers.ts).
 */
export { Server, type CloseOptions } from './server.js';
export { Session } from './session.js';
export { Fid } from './fid.js';
export { Req, interrupted } from './req.js';
export type { Srv, Awaitable, LockArgs } from './srv.js';
export {
  type ServerOptions, type Logger, consoleLogger, silentLogger, MIN_MSIZE, DEFAULT_MAX_MSIZE,
} from './options.js';
export { SrvEname, srvError, notSupported } from './enames.js';
export { errorReply } from './reply.js';
export {
  AREAD, AWRITE, AEXEC, hasPerm, openAccess, checkOpenPerm, checkDirOpen, createPerm, isValidName, checkName,
} from './perm.js';
export { attrOfDir, unixMode, direntType, omodeOfFlags, wstatOfSetattr } from './attr.js';
export {
  Node, DirNode, FileNode, Handle, QidPaths, dir, file, textFile, dynamicDir,
  type NodeOptions, type DirOptions, type FileOps,
} from './node.js';
export { Tree, type TreeOptions } from './tree.js';
export { CloneDir, Instance, instanceCtl, type CloneDirOptions } from './clone.js';
export { parseCmd, lookupCmd, runCmd, ctlWrite, ctlError, type Cmd, type Cmdtab, type CtlCall } from './ctl.js';
export { readBuf, readStr } from './read-helpers.js';
export { Waiters, ReadQueue, type ReadQueueOptions } from './blocking.js';

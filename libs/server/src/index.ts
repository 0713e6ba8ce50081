/**
 * @prose/server — a 9P server framework (9P2000, 9P2000.u, 9P2000.L) after lib9p/srv9p:
 * sessions with fid and tag tables, version negotiation, flush, limits and one reply path
 * (server.ts, session.ts and the op modules), a Srv callback table (srv.ts), and a tree API for
 * synthetic files (node.ts, tree.ts, clone.ts, ctl.ts, blocking.ts, read-helpers.ts).
 */
import * as fromServer from './server.js';
import * as fromSession from './session.js';
import * as fromFid from './fid.js';
import * as fromReq from './req.js';
import * as fromOptions from './options.js';
import * as fromEnames from './enames.js';
import * as fromReply from './reply.js';
import * as fromPerm from './perm.js';
import * as fromAttr from './attr.js';
import * as fromNode from './node.js';
import * as fromTree from './tree.js';
import * as fromClone from './clone.js';
import * as fromCtl from './ctl.js';
import * as fromReadHelpers from './read-helpers.js';
import * as fromBlocking from './blocking.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import Server = fromServer.Server;
export type { CloseOptions } from './server.js';
export import Session = fromSession.Session;
export import Fid = fromFid.Fid;
export import Req = fromReq.Req;
export import interrupted = fromReq.interrupted;
export type { Srv, Awaitable, LockArgs } from './srv.js';
export import consoleLogger = fromOptions.consoleLogger;
export import silentLogger = fromOptions.silentLogger;
export import MIN_MSIZE = fromOptions.MIN_MSIZE;
export import DEFAULT_MAX_MSIZE = fromOptions.DEFAULT_MAX_MSIZE;
export type { ServerOptions, Logger } from './options.js';
export import SrvEname = fromEnames.SrvEname;
export import srvError = fromEnames.srvError;
export import notSupported = fromEnames.notSupported;
export import errorReply = fromReply.errorReply;
export import AREAD = fromPerm.AREAD;
export import AWRITE = fromPerm.AWRITE;
export import AEXEC = fromPerm.AEXEC;
export import hasPerm = fromPerm.hasPerm;
export import openAccess = fromPerm.openAccess;
export import checkOpenPerm = fromPerm.checkOpenPerm;
export import checkDirOpen = fromPerm.checkDirOpen;
export import createPerm = fromPerm.createPerm;
export import isValidName = fromPerm.isValidName;
export import checkName = fromPerm.checkName;
export import attrOfDir = fromAttr.attrOfDir;
export import unixMode = fromAttr.unixMode;
export import direntType = fromAttr.direntType;
export import omodeOfFlags = fromAttr.omodeOfFlags;
export import wstatOfSetattr = fromAttr.wstatOfSetattr;
export import Node = fromNode.Node;
export import DirNode = fromNode.DirNode;
export import FileNode = fromNode.FileNode;
export import Handle = fromNode.Handle;
export import QidPaths = fromNode.QidPaths;
export import dir = fromNode.dir;
export import file = fromNode.file;
export import textFile = fromNode.textFile;
export import dynamicDir = fromNode.dynamicDir;
export type { NodeOptions, DirOptions, FileOps } from './node.js';
export import Tree = fromTree.Tree;
export type { TreeOptions } from './tree.js';
export import CloneDir = fromClone.CloneDir;
export import Instance = fromClone.Instance;
export import instanceCtl = fromClone.instanceCtl;
export type { CloneDirOptions } from './clone.js';
export import parseCmd = fromCtl.parseCmd;
export import lookupCmd = fromCtl.lookupCmd;
export import runCmd = fromCtl.runCmd;
export import ctlWrite = fromCtl.ctlWrite;
export import ctlError = fromCtl.ctlError;
export type { Cmd, Cmdtab, CtlCall } from './ctl.js';
export import readBuf = fromReadHelpers.readBuf;
export import readStr = fromReadHelpers.readStr;
export import Waiters = fromBlocking.Waiters;
export import ReadQueue = fromBlocking.ReadQueue;
export type { ReadQueueOptions } from './blocking.js';

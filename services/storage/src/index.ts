/**
 * @prose/storage-service — a POSIX directory exported over 9P2000.L, 9P2000.u and 9P2000,
 * sandboxed (see README.md). `storageService` is the ServiceDef main runs; `StorageExport` is
 * the Srv, usable in-process with a @prose/server Server.
 */
import * as fromService from './service.js';
import * as fromExport from './export.js';
import * as fromUidmap from './uidmap.js';
import * as fromLocks from './locks.js';
import * as fromSandbox from './sandbox.js';
import * as fromDirlist from './dirlist.js';
import * as fromAttrs from './attrs.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import storageService = fromService.storageService;
export import STORAGE_OPTIONS = fromService.STORAGE_OPTIONS;
export import StorageExport = fromExport.StorageExport;
export import lflagsOfMode = fromExport.lflagsOfMode;
export type { ExportOptions, FidState } from './export.js';
export import UidPolicy = fromUidmap.UidPolicy;
export import mayAccess = fromUidmap.mayAccess;
export import mayDelete = fromUidmap.mayDelete;
export import isOwner = fromUidmap.isOwner;
export import MAY_READ = fromUidmap.MAY_READ;
export import MAY_WRITE = fromUidmap.MAY_WRITE;
export import MAY_EXEC = fromUidmap.MAY_EXEC;
export type { User, Perm } from './uidmap.js';
export import LockTable = fromLocks.LockTable;
export import rangeOf = fromLocks.rangeOf;
export import lengthOf = fromLocks.lengthOf;
export type { HeldLock } from './locks.js';
export import Handle = fromSandbox.Handle;
export import HandleRegistry = fromSandbox.HandleRegistry;
export import at = fromSandbox.at;
export import checkComponent = fromSandbox.checkComponent;
export import haveProcFd = fromSandbox.haveProcFd;
export import O_PATH = fromSandbox.O_PATH;
export import DirCache = fromDirlist.DirCache;
export import Listing = fromDirlist.Listing;
export import QidPaths = fromAttrs.QidPaths;
export import qidOf = fromAttrs.qidOf;
export import qidVersion = fromAttrs.qidVersion;
export import attrOf = fromAttrs.attrOf;
export import dirOf = fromAttrs.dirOf;
export import hostOpenFlags = fromAttrs.hostOpenFlags;
export import Names = fromAttrs.Names;

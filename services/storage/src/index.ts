/**
 * @prose/storage-service — a POSIX directory exported over 9P2000.L, 9P2000.u and 9P2000,
 * sandboxed (see README.md). `storageService` is the ServiceDef main runs; `StorageExport` is
 * the Srv, usable in-process with a @prose/server Server.
 */
export { storageService, STORAGE_OPTIONS } from './service.js';
export { StorageExport, lflagsOfMode, type ExportOptions, type FidState } from './export.js';
export { UidPolicy, mayAccess, mayDelete, isOwner, MAY_READ, MAY_WRITE, MAY_EXEC, type User, type Perm } from './uidmap.js';
export { LockTable, rangeOf, lengthOf, type HeldLock } from './locks.js';
export { Handle, HandleRegistry, at, checkComponent, haveProcFd, O_PATH } from './sandbox.js';
export { DirCache, Listing } from './dirlist.js';
export { QidPaths, qidOf, qidVersion, attrOf, dirOf, hostOpenFlags, Names } from './attrs.js';

/**
 * The storage service's definition for @prose/service: its options and how it builds the export.
 */
import * as fs from 'node:fs';
import { ConfigError, type ConfigSpec, type ServiceDef } from '@prose/service';
import { StorageExport, type FidState } from './export.js';
import { haveProcFd } from './sandbox.js';
import { UidPolicy } from './uidmap.js';

/** The options of the storage service, besides the common ones (listen, health, max-msize, ...). */
export const STORAGE_OPTIONS: ConfigSpec = {
  export: { type: 'string', env: 'PROSE_STORAGE_EXPORT', help: 'the directory to export (required)' },
  'read-only': { type: 'boolean', env: 'PROSE_STORAGE_READ_ONLY', default: false, help: 'refuse every change with EROFS' },
  'uid-policy': { type: 'string', env: 'PROSE_STORAGE_UID_POLICY', default: 'service', help: '"service": all I/O as this service\'s user; "map": act for the user uid-map gives the attach' },
  'uid-map': { type: 'list', env: 'PROSE_STORAGE_UID_MAP', default: [], help: 'uid-policy map entries NAME=UID:GID[:G1+G2], NAME a uname, #N (n_uname N) or * (everyone else)' },
  'sync-io-max': { type: 'number', env: 'PROSE_STORAGE_SYNC_IO_MAX', default: 65536, help: 'reads/writes of regular files up to this many bytes are synchronous calls; larger ones use the thread pool (0: all asynchronous)' },
  'map-read-min': { type: 'number', env: 'PROSE_STORAGE_MAP_READ_MIN', default: 65536, help: 'reads of regular files of at least this many bytes, with every page in memory, are sent from a mapping of the file: one copy, by the socket write (0: never; off with metadata-io pool)' },
  'metadata-io': { type: 'string', env: 'PROSE_STORAGE_METADATA_IO', default: 'sync', help: '"sync": metadata calls (open, stat, unlink, mkdir, ...) run on the event loop, fastest on local file systems; "pool": through the thread pool, for network-backed exports where one may block' },
  'dir-cache': { type: 'number', env: 'PROSE_STORAGE_DIR_CACHE', default: 200000, help: 'directory entries the listing cache may hold (0: no cache)' },
};

/** The service main runs. */
export const storageService: ServiceDef<FidState> = {
  name: 'storage',
  options: STORAGE_OPTIONS,
  build(cfg, { logger }) {
    const root = cfg.export as string | undefined;
    if (!root) throw new ConfigError('export: the directory to export is required (--export DIR)');
    let st: fs.Stats;
    try {
      st = fs.statSync(root);
    } catch (e) {
      throw new ConfigError(`export: ${(e as Error).message}`);
    }
    if (!st.isDirectory()) throw new ConfigError(`export: ${root} is not a directory`);
    if (!haveProcFd()) throw new Error('storage: /proc/self/fd is not usable here (Linux with procfs is required for the sandbox)');
    const policyName = cfg['uid-policy'] as string;
    let policy: UidPolicy;
    if (policyName === 'service') policy = UidPolicy.service();
    else if (policyName === 'map') {
      try {
        policy = UidPolicy.map(cfg['uid-map'] as string[]);
      } catch (e) {
        throw new ConfigError((e as Error).message);
      }
    } else throw new ConfigError(`uid-policy: want "service" or "map", got ${JSON.stringify(policyName)}`);
    const dirCache = cfg['dir-cache'] as number;
    if (!Number.isInteger(dirCache) || dirCache < 0) throw new ConfigError('dir-cache: want a whole number ≥ 0');
    // Modes come from clients already masked by their umask; the service must not mask again.
    process.umask(0);
    const syncIoMax = cfg['sync-io-max'] as number;
    if (!Number.isInteger(syncIoMax) || syncIoMax < 0) throw new ConfigError('sync-io-max: want a whole number ≥ 0');
    const mapReadMin = cfg['map-read-min'] as number;
    if (!Number.isInteger(mapReadMin) || mapReadMin < 0) throw new ConfigError('map-read-min: want a whole number ≥ 0');
    const metadataIo = cfg['metadata-io'] as string;
    if (metadataIo !== 'sync' && metadataIo !== 'pool') throw new ConfigError(`metadata-io: want "sync" or "pool", got ${JSON.stringify(metadataIo)}`);
    const exp = new StorageExport({ root, readOnly: cfg['read-only'] as boolean, policy, dirCacheEntries: dirCache, syncIoMax, mapReadMin, metadataIo, logger });
    // Every write path has finished with `data` when it settles (pwrite done, or the xattr value
    // copied), so sockets may lend their receive memory: no fresh buffer per 1 MiB Twrite.
    return { srv: exp, lendFrames: true, close: () => exp.close() };
  },
};

/**
 * @prose/shm — 9P over shared-memory rings, behind the transport's one Conn interface.
 *
 * Between processes (needs the native addon): `listenShm('shm!/run/x.sock', c => server.serve(c))`
 * and `await dialShm('shm!/run/x.sock', { mode: 'notify' })`. Between threads: `listenShmThreads`
 * hands out ports, `dialShmThread(port)` dials one; `shmPair()` makes two Conns in one thread.
 * Loading this package makes `shm!/path` a transport network: `dial`/`listen` by dial string reach it.
 * Modes: 'poll' | 'notify' | 'adaptive'. Zero-copy: `conn.reserve(n)` on the sender, a handler
 * with `frameRef(view, release)` on the receiver.
 */
import './network.js';

export { ShmConn, SHM_MODES, DEFAULT_SPIN_US, MAX_BLOCK_US, type ShmMode, type ZeroCopyHandler } from './conn.js';
export { ShmError, type ShmErrorCode } from './errors.js';
export { listenShm, dialShm, parseShmAddr } from './proc.js';
export {
  listenShmThreads, dialShmThread, shmPair, type ShmThreadListener, type ShmConnectOptions, type ShmListenOptions,
} from './thread.js';
export { haveAddon, ADDON_PATH } from './native.js';
export { Doorbell, doorbellPair, type DoorbellFds } from './fd-signaller.js';
export { makeLayout, HEADROOM, type Layout, type LayoutOptions } from './layout.js';
export { threadCpus, shareOneCpu, parseCpuList } from './affinity.js';

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
import * as fromConn from './conn.js';
import * as fromErrors from './errors.js';
import * as fromProc from './proc.js';
import * as fromThread from './thread.js';
import * as fromNative from './native.js';
import * as fromFdSignaller from './fd-signaller.js';
import * as fromLayout from './layout.js';
import * as fromAffinity from './affinity.js';
import * as fromLoopPoll from './loop-poll.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import ShmConn = fromConn.ShmConn;
export import SHM_MODES = fromConn.SHM_MODES;
export import DEFAULT_SPIN_US = fromConn.DEFAULT_SPIN_US;
export import MAX_BLOCK_US = fromConn.MAX_BLOCK_US;
export type { ShmMode, ZeroCopyHandler } from './conn.js';
export import ShmError = fromErrors.ShmError;
export type { ShmErrorCode } from './errors.js';
export import listenShm = fromProc.listenShm;
export import dialShm = fromProc.dialShm;
export import parseShmAddr = fromProc.parseShmAddr;
export import listenShmThreads = fromThread.listenShmThreads;
export import dialShmThread = fromThread.dialShmThread;
export import shmPair = fromThread.shmPair;
export type { ShmThreadListener, ShmConnectOptions, ShmListenOptions } from './thread.js';
export import haveAddon = fromNative.haveAddon;
export import ADDON_PATH = fromNative.ADDON_PATH;
export import Doorbell = fromFdSignaller.Doorbell;
export import doorbellPair = fromFdSignaller.doorbellPair;
export type { DoorbellFds } from './fd-signaller.js';
export import makeLayout = fromLayout.makeLayout;
export import HEADROOM = fromLayout.HEADROOM;
export type { Layout, LayoutOptions } from './layout.js';
export import threadCpus = fromAffinity.threadCpus;
export import shareOneCpu = fromAffinity.shareOneCpu;
export import parseCpuList = fromAffinity.parseCpuList;
export import pollLoopBeforeBlocking = fromLoopPoll.pollLoopBeforeBlocking;
export import loopPollStats = fromLoopPoll.loopPollStats;
export import loopIdleMetric = fromLoopPoll.loopIdleMetric;
export type { LoopPollResult, LoopPollStats } from './loop-poll.js';

/**
 * The native addon (native/prose_shm.cc), loaded on first use. Process mode needs it; thread
 * mode does not. Where it is missing or fails to load, `loadAddon` throws a ShmError
 * ('no-addon') that says why and how to build it.
 */
import * as path from 'node:path';
import { ShmError } from './errors.js';

export interface Watcher {
  close(): void;
  ref(): void;
  unref(): void;
  /** 0 level-triggered, 1 edge-triggered from the first wake-up on, 2 edge-triggered in effect (absent from older builds). */
  edge?(): number;
}

export interface Addon {
  memfdCreate(name: string, size: number): number;
  /** [size (-1 if not a regular file/memfd), seals, F_SEAL_SHRINK] */
  fdInfo(fd: number): [number, number, number];
  mapShared(fd: number, size: number): SharedArrayBuffer;
  eventfd(): number;
  signal(fd: number): void;
  /** Blocks this thread up to `us` µs until the eventfd is readable, and drains it; true if it rang. */
  waitFd(fd: number, us: number): boolean;
  closeFd(fd: number): void;
  /** A new descriptor for the same open file (absent from addons built before it). */
  dupFd?(fd: number): number;
  unixListen(path: string, backlog: number): number;
  unixAccept(fd: number): number;
  unixConnect(path: string): number;
  sendMsg(fd: number, buf: Buffer, len: number, fds: number[]): number;
  recvMsg(fd: number, buf: Buffer): number[];
  /**
   * Polls this thread's event loop before it blocks, for an adaptive window of up to `maxUs`
   * (0 stops, -1 only reads); returns [windowUs, polls, found, blocks] so far. Absent from addons
   * built before it (see loop-poll.ts).
   */
  loopPoll?(maxUs: number): [number, number, number, number];
  /** This thread's loop's idle-time metric: 1 on, 0 off, -1 asks; answers 1, 0, or -1 (unknown libuv). */
  loopIdleMetric?(mode: number): number;
  /** `ownedFds` (builds with dupFd): closed once the watcher's poll handle is closed, or at thread teardown. */
  /** `edge`: an eventfd doorbell watched edge-triggered, its counter left unread (see prose_shm.cc; builds before it ignore it). */
  Watcher: new (fd: number, drainEventfd: boolean, cb: (status: number) => void, ownedFds?: number[], edge?: boolean) => Watcher;
}

/**
 * Where the build puts the addon, relative to this file (src/ under Jest, dist/ when built).
 * PROSE_SHM_ADDON overrides it (tests use a bogus path to check the no-addon behaviour).
 */
export const ADDON_PATH = process.env.PROSE_SHM_ADDON || path.join(__dirname, '..', 'build', 'Release', 'prose_shm.node');

let cached: Addon | ShmError | undefined;

/** The addon, or a ShmError('no-addon') explaining why process mode is unavailable. */
export function loadAddon(): Addon {
  if (cached === undefined) {
    try {
      if (process.platform !== 'linux') throw new Error(`platform ${process.platform} is not supported`);
      cached = require(ADDON_PATH) as Addon;
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      cached = new ShmError(
        'no-addon',
        `shm: process mode needs the native addon (${why}); build it with \`npm run build:native -w @prose/shm\` (needs python3, make, g++); thread mode works without it`,
      );
    }
  }
  if (cached instanceof ShmError) throw cached;
  return cached;
}

/** True when process mode can be used here. */
export function haveAddon(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

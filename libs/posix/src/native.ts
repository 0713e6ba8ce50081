/**
 * The native addon (native/prose_posix.c), loaded on first use. Where it is missing or fails
 * to load, `loadAddon` throws a PosixError ('ENOSYS') that says why and how to build it, and
 * `havePosix()` is false, so callers can fall back to what Node offers.
 */
import * as path from 'node:path';
import { PosixError } from './errors.js';

/** The addon's calls: negative errno numbers on failure (see native/prose_posix.c). */
export interface Addon {
  getxattr(target: string | number, name: string, nofollow: boolean): Buffer | number;
  listxattr(target: string | number, nofollow: boolean): Buffer | number;
  setxattr(target: string | number, name: string, value: Buffer, flags: number, nofollow: boolean): number;
  removexattr(target: string | number, name: string, nofollow: boolean): number;
  getdents(fd: number, buf: Buffer): number;
  readdir(fd: number): [string, BigUint64Array, Uint8Array, Uint16Array] | number;
  /** Absent from addons built before it (see readDirectoryEncoded). */
  readdirEncoded?(fd: number, topLo: number, topHi: number, firstCookie: number, prefix?: Buffer): [Buffer, Uint32Array, Uint32Array] | number;
  pwritePieces(fd: number, buf: Buffer, offset: number, piece: number, cb: (errno: number, written: number) => void): void;
  /** The *at calls (absent from addons built before them: see haveAtCalls). */
  openat?(dirfd: number, name: string, flags: number, mode: number): number;
  unlinkat?(dirfd: number, name: string, flags: number): number;
  mkdirat?(dirfd: number, name: string, mode: number): number;
  /** statx(2) into `out` (see stat.ts); absent from addons built before it. */
  statx?(dirfd: number, name: string, flags: number, out: Float64Array): number;
  /** Socket I/O of our own (native/sockio.c; absent from addons built before it: see sockio.ts). */
  sockRead?(fd: number, buf: Uint8Array): number;
  sockWrite?(fd: number, buf: Uint8Array): number;
  sockWritev?(fd: number, bufs: readonly Uint8Array[], start: number, count: number): number;
  sockShutdown?(fd: number): number;
  sockError?(fd: number): number;
  dupFd?(fd: number): number;
  watchFd?(fd: number, events: number, cb: (status: number, events: number) => void): FdWatch | number;
  watchSet?(watch: FdWatch, events: number): number;
  watchClose?(watch: FdWatch): void;
  schedYield?(): number;
  /** File mappings only the kernel reads (native/filemap.c; absent from addons built before it: see filemap.ts). */
  reserveArena?(length: number): Buffer | number;
  mapInto?(arena: Buffer, at: number, fd: number, offset: number, length: number): number;
  unmapFrom?(arena: Buffer, at: number, length: number): number;
  residentPages?(buf: Uint8Array, start: number, length: number): number;
  copyMapped?(buf: Uint8Array, start: number, length: number): [Buffer, number] | number;
  /** Recycled memory for Buffers (native/recycle.c; absent from addons built before it: see recycle.ts). */
  recycledBuffer?(size: number): Buffer | number;
  recycleStats?(): [number, number, number];
  recycleTrim?(keepBytes: number): number;
}

/** A descriptor watched in the event loop (watchFd); opaque. */
export type FdWatch = { readonly __fdWatch: unique symbol };

/**
 * Where the build puts the addon, relative to this file (src/ under Jest, dist/ when built).
 * PROSE_POSIX_ADDON overrides it (tests use a bogus path to check the fallback).
 */
export const ADDON_PATH = process.env.PROSE_POSIX_ADDON || path.join(__dirname, '..', 'build', 'Release', 'prose_posix.node');

let cached: Addon | PosixError | undefined;

/** The addon, or a PosixError (code ENOSYS) saying why it is unavailable. */
export function loadAddon(): Addon {
  if (cached === undefined) {
    try {
      if (process.platform !== 'linux') throw new Error(`platform ${process.platform} is not supported`);
      cached = require(ADDON_PATH) as Addon;
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      cached = new PosixError(
        38,
        'load',
        `posix: the native addon is not available (${why}); build it with \`npm run build:native -w @prose/posix\` (needs python3, make, a C compiler)`,
      );
    }
  }
  if (cached instanceof PosixError) throw cached;
  return cached;
}

/**
 * The addon as `T` (a part of its calls), when it loads and has every call in `names`; else
 * undefined (no addon, or one built before those calls).
 */
export function addonWith<T>(names: readonly string[]): T | undefined {
  try {
    const a = loadAddon() as unknown as Record<string, unknown>;
    return names.every((n) => typeof a[n] === 'function') ? (a as T) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the addon is loaded (xattrs and getdents can be used). */
export function havePosix(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/**
 * A connected stream socket read and written by the process itself. Node's net.Socket puts
 * every read and write through its stream machinery (a JS callback per read through
 * StreamBase, a WriteWrap object, async-hook scopes and Writable's bookkeeping per write); a
 * request/reply server pays that on every message, run cold after the peer had the CPU. These
 * calls are one system call each, and `watchFd` calls back in the event loop when the
 * descriptor is ready (libuv's uv_poll), so @prose/transport's FdSocket can carry a Conn with
 * none of that: measured on a 2-vCPU VM, a small request/reply exchange with a C client on the
 * same CPU (a Node echo server over @prose/transport, no 9P) took 8.4 µs a round trip against
 * 8.8–8.9 through net.Socket (C to C: 5.5–5.9).
 *
 * Every call returns a negative errno on failure, never throws for the system's errors.
 */
import { addonWith, type Addon, type FdWatch } from './native.js';

export type { FdWatch } from './native.js';

/** `watchFd` / `watchSet` events. */
export const WATCH_READABLE = 1;
export const WATCH_WRITABLE = 2;

/** The addon's socket calls, all present. */
export type SockIo = Required<Pick<Addon, 'sockRead' | 'sockWrite' | 'sockWritev' | 'sockShutdown' | 'sockError' | 'dupFd' | 'watchFd' | 'watchSet' | 'watchClose' | 'schedYield'>>;

/** The most buffers one `sockWritev` sends (the rest: the next call). */
export const WRITEV_MAX = 64;

let io: SockIo | null | undefined;

/**
 * The socket calls, or undefined where the addon is missing or was built before them (the
 * caller then uses Node's sockets).
 */
export function sockIo(): SockIo | undefined {
  if (io === undefined) io = addonWith<SockIo>(['sockRead', 'sockError', 'watchFd', 'dupFd', 'schedYield']) ?? null;
  return io ?? undefined;
}

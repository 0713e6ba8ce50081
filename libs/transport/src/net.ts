/**
 * Dial and listen on TCP and Unix sockets by dial string.
 */
import * as net from 'node:net';
import { closeSync, promises as fsp } from 'node:fs';
import { Errno, NinepError } from '@prose/protocol';
import { sockIo } from '@prose/posix';
import type { Conn, Listener } from './conn.js';
import { formatDialString, parseDialString } from './dialstring.js';
import { FdSocket } from './fd-socket.js';
import { SocketConn, adoptWithOnread } from './socket-conn.js';
import { SlabReader } from './slab-reader.js';

/**
 * Who reads and writes a TCP or Unix socket: 'fd', this process through @prose/posix's socket
 * calls (FdSocket; the default where the addon is built), or 'node', Node's net.Socket.
 */
export type SocketIo = 'fd' | 'node';

/** The default SocketIo: PROSE_SOCKET_IO, else 'fd'. */
function defaultSocketIo(): SocketIo {
  return process.env.PROSE_SOCKET_IO === 'node' ? 'node' : 'fd';
}

/** True when sockets are to be carried by FdSockets and can be. */
function useFd(choice: SocketIo | undefined): boolean {
  return (choice ?? defaultSocketIo()) === 'fd' && sockIo() !== undefined;
}

/**
 * `s`'s connection carried by an FdSocket on a duplicate of its descriptor (see fd-socket.ts),
 * or undefined, leaving `s` as it was, where Node's internals are not as expected or the socket
 * has already read or queued anything.
 *
 * NODE INTERNALS: `socket._handle` and the handle's `fd` and `reading` (as adoptWithOnread).
 */
function fdSocketOf(s: net.Socket, onread: SlabReader['onread']): FdSocket | undefined {
  const io = sockIo();
  if (io === undefined) return undefined;
  let h: { fd?: unknown; reading?: unknown } | null | undefined;
  try {
    h = (s as unknown as { _handle?: { fd?: unknown; reading?: unknown } | null })._handle;
  } catch {
    return undefined;
  }
  if (h == null || typeof h.fd !== 'number' || h.fd < 0 || h.reading === true || s.writableLength > 0 || s.readableLength > 0 || s.destroyed) {
    return undefined;
  }
  const fd = io.dupFd(h.fd);
  if (fd < 0) return undefined;
  try {
    return new FdSocket(io, fd, onread, s);
  } catch {
    closeSync(fd);
    return undefined;
  }
}

export interface DialOptions {
  /** Give up after this many ms (default 10000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  maxFrame?: number;
  /**
   * Lend frames to the handler in place: frames of 512 bytes or more go to its `frameRef` (when
   * it has one) in receive buffers that are reused once released, so the memory the kernel
   * writes into stays in cache; smaller ones are copied to its `frame`. Set it only for a
   * handler that really lets go of a frame when it releases it — for a 9P server, one whose
   * `write` callbacks keep no view of `data` past their return (or their promise settling).
   * A handler with `lendable` chooses frame by frame (the 9P client lends only `readRef`
   * replies). Default false: every frame is the handler's to keep.
   */
  lendFrames?: boolean;
  /** Who reads and writes the socket (default: PROSE_SOCKET_IO, else 'fd' where the addon is built). */
  socketIo?: SocketIo;
}

function socketNames(s: net.Socket, unixPath?: string): { remote: string; local: string } {
  if (unixPath !== undefined) return { remote: `unix!${unixPath}`, local: `unix!${unixPath}` };
  return {
    remote: formatDialString({ net: 'tcp', host: s.remoteAddress ?? '?', port: s.remotePort ?? 0 }),
    local: formatDialString({ net: 'tcp', host: s.localAddress ?? '?', port: s.localPort ?? 0 }),
  };
}

/**
 * A network other than tcp and unix that dial strings can name (`shm!/run/x.sock`): a package
 * that implements one registers it, and from then on `dial` and `listen` — and so every client,
 * server and service — reach it by dial string like any other.
 */
export interface Network {
  dial(addr: string, opts: DialOptions): Promise<Conn>;
  listen(addr: string, onConn: (c: Conn) => void, opts: ListenOptions): Promise<Listener>;
}

const networks = new Map<string, Network>();

/** Makes `name!…` dial strings reach `n`. Registering a name again replaces it. */
export function registerNetwork(name: string, n: Network): void {
  if (name === 'tcp' || name === 'unix' || name === 'net') throw new Error(`network ${name} is built in`);
  networks.set(name, n);
}

/** The registered network a dial string names, if it is not tcp or unix. */
function networkOf(addr: string): Network | undefined {
  const bang = addr.indexOf('!');
  return bang > 0 ? networks.get(addr.slice(0, bang)) : undefined;
}

/**
 * Connects to a dial string (`tcp!host!port`, `unix!/path`, or a registered network such as
 * `shm!/path`). Rejects with a NinepError.
 */
export function dial(addr: string, opts: DialOptions = {}): Promise<Conn> {
  const other = networkOf(addr);
  if (other) return other.dial(addr, opts);
  const a = parseDialString(addr);
  return new Promise((resolve, reject) => {
    // The socket reads into our slab (frames are views of it, big ones arrive in few reads):
    // through an FdSocket once connected, or through Node's `onread`.
    const slab = new SlabReader(opts.maxFrame);
    const fd = useFd(opts.socketIo);
    const onread = fd ? undefined : slab.onread;
    const socket = a.net === 'unix' ? net.createConnection({ path: a.path, onread }) : net.createConnection({ host: a.host, port: a.port, onread });
    const timer = setTimeout(() => fail(new NinepError(`dial ${addr}: timed out`, Errno.ETIMEDOUT)), opts.timeoutMs ?? 10000);
    const onAbort = () => fail(new NinepError(`dial ${addr}: interrupted`, Errno.EINTR));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    function cleanup() {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', fail);
    }
    function fail(err: Error) {
      cleanup();
      socket.destroy();
      const e = NinepError.from(err);
      reject(new NinepError(`dial ${addr}: ${e.ename}`, e.errno));
    }
    socket.once('error', fail);
    socket.once('connect', () => {
      // Paused before Node's first read, which follows this event.
      if (fd) socket.pause();
      cleanup();
      if (a.net === 'tcp') socket.setNoDelay(true);
      const names = socketNames(socket, a.net === 'unix' ? a.path : undefined);
      if (!fd) {
        resolve(new SocketConn(socket, names, opts.maxFrame, slab, opts.lendFrames));
        return;
      }
      // Not taken over (Node's internals not as expected): its 'data' chunks are framed.
      const own = fdSocketOf(socket, slab.onread);
      resolve(own ? new SocketConn(own, names, opts.maxFrame, slab, opts.lendFrames) : new SocketConn(socket, names, opts.maxFrame, undefined, opts.lendFrames));
    });
  });
}

export interface ListenOptions {
  maxFrame?: number;
  /** TCP listen backlog. */
  backlog?: number;
  /** As DialOptions.lendFrames, for every accepted connection. Default false. */
  lendFrames?: boolean;
  /** As DialOptions.socketIo, for every accepted connection. */
  socketIo?: SocketIo;
}

/**
 * Listens on a dial string and calls `onConn` for every accepted connection. `tcp!host!0`
 * binds a free port (see `Listener.addr`). A stale Unix socket file (nobody listening) is
 * replaced; a live one is an error (EADDRINUSE).
 */
export async function listen(addr: string, onConn: (c: Conn) => void, opts: ListenOptions = {}): Promise<Listener> {
  const other = networkOf(addr);
  if (other) return other.listen(addr, onConn, opts);
  const a = parseDialString(addr);
  const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
    // Read into a slab like a dialed socket: carried by an FdSocket, or re-wrapped with Node's
    // `onread` (see adoptWithOnread); if neither can be done, its 'data' events are framed.
    if (a.net === 'tcp') accepted.setNoDelay(true);
    const names = socketNames(accepted, a.net === 'unix' ? a.path : undefined);
    const slab = new SlabReader(opts.maxFrame);
    const own = useFd(opts.socketIo) ? fdSocketOf(accepted, slab.onread) : undefined;
    if (own !== undefined) {
      onConn(new SocketConn(own, names, opts.maxFrame, slab, opts.lendFrames));
      return;
    }
    const adopted = adoptWithOnread(accepted, slab.onread);
    onConn(new SocketConn(adopted ?? accepted, names, opts.maxFrame, adopted ? slab : undefined, opts.lendFrames));
  });
  server.on('error', () => {});
  const bind = () =>
    new Promise<void>((resolve, reject) => {
      const onErr = (err: Error) => reject(err);
      server.once('error', onErr);
      const done = () => {
        server.removeListener('error', onErr);
        resolve();
      };
      if (a.net === 'unix') server.listen({ path: a.path, backlog: opts.backlog ?? 511 }, done);
      else server.listen({ host: a.host === '*' ? '::' : a.host, port: a.port, backlog: opts.backlog ?? 511 }, done);
    });
  try {
    await bind();
  } catch (err) {
    if (a.net !== 'unix' || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || (await unixAlive(a.path))) {
      const e = NinepError.from(err);
      throw new NinepError(`listen ${addr}: ${e.ename}`, e.errno);
    }
    await fsp.unlink(a.path).catch(() => {});
    await bind();
  }
  let bound = addr;
  const info = server.address();
  if (info && typeof info === 'object') bound = formatDialString({ net: 'tcp', host: a.net === 'tcp' ? a.host : '', port: info.port });
  return {
    addr: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (a.net === 'unix') fsp.unlink(a.path).catch(() => {});
      }),
  };
}

function unixAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

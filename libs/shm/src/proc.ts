/**
 * Channels between processes on one host, through a well-known Unix control socket
 * (`shm!/run/prose/cons.sock`): the clone multiplexer. Per dial, the listener makes a fresh
 * segment (a sealed memfd: no name anywhere, freed by the kernel when the last mapping goes,
 * SIGKILL included) and two eventfd doorbells, and passes the three fds to the dialer with
 * SCM_RIGHTS. The control connection then stays open and idle: its close is the liveness
 * signal (the kernel closes a dead process's fds at once).
 *
 * Handshake (each message is u32 length + JSON):
 *   dialer  → {v:1, mode, cpus, pid, ringSize?, slotCount?, slotSize?}
 *   listener→ {v:1, ringSize, slotCount, slotSize, mode, cpus, pid} + fds [memfd, bell0, bell1]
 * Side 0 (the listener) sleeps on bell0, side 1 on bell1.
 */
import * as fs from 'node:fs';
import type { Listener } from '@prose/transport';
import { threadCpus, shareOneCpu } from './affinity.js';
import { Endpoint } from './channel.js';
import { SHM_MODES, ShmConn, type ShmMode } from './conn.js';
import { ShmError } from './errors.js';
import { checkSegment, initSegment, makeLayout, type Layout } from './layout.js';
import { FdSignaller } from './fd-signaller.js';
import { loadAddon, type Addon, type Watcher } from './native.js';
import type { ShmConnectOptions, ShmListenOptions } from './thread.js';

const CTL_MAX = 4096;

/** The path of an `shm!/path` dial string. Throws ShmError('invalid'). */
export function parseShmAddr(addr: string): string {
  const m = /^shm!(.+)$/.exec(addr);
  if (!m || !m[1]!.startsWith('/')) throw new ShmError('invalid', `shm: bad dial string "${addr}": want shm!/path/to/ctl.sock`);
  return m[1]!;
}

function closeAll(addon: Addon, fds: number[]): void {
  for (const fd of fds) addon.closeFd(fd);
}

function frameMsg(obj: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(obj));
  const b = Buffer.allocUnsafe(4 + body.length);
  b.writeUInt32LE(body.length, 0);
  body.copy(b, 4);
  return b;
}

/** Accumulates one length-prefixed JSON message from a non-blocking socket. */
class MsgReader {
  private readonly buf = Buffer.alloc(CTL_MAX);
  private got = 0;
  fds: number[] = [];

  /** 'eof' | 'more' | the parsed message. Throws on a malformed or oversized message. */
  read(addon: Addon, fd: number): 'eof' | 'more' | Record<string, unknown> {
    for (;;) {
      if (this.got === CTL_MAX) throw new Error('control message too long');
      const r = addon.recvMsg(fd, this.buf.subarray(this.got));
      const n = r[0]!;
      this.fds.push(...r.slice(1));
      if (n === 0) return 'eof';
      if (n < 0) return 'more';
      this.got += n;
      if (this.got < 4) continue;
      const len = this.buf.readUInt32LE(0);
      if (len > CTL_MAX - 4) throw new Error(`control message of ${len} bytes`);
      if (this.got < 4 + len) continue;
      const v = JSON.parse(this.buf.toString('utf8', 4, 4 + len)) as unknown;
      if (!v || typeof v !== 'object') throw new Error('control message is not an object');
      return v as Record<string, unknown>;
    }
  }
}

/** Watches the control connection after the handshake: EOF means the peer is gone. */
function watchControl(addon: Addon, fd: number, watcher: SwappableWatcher, conn: ShmConn): void {
  const scratch = Buffer.alloc(64);
  let closed = false;
  const shut = () => {
    if (closed) return;
    closed = true;
    watcher.close();
    addon.closeFd(fd);
  };
  conn.attachLiveness({ close: shut });
  watcher.onEvent = () => {
    for (;;) {
      let r: number[];
      try {
        r = addon.recvMsg(fd, scratch);
      } catch (err) {
        conn.peerGone(`control connection failed: ${(err as Error).message}`);
        return;
      }
      closeAll(addon, r.slice(1));
      if (r[0] === 0) {
        conn.peerGone('peer process closed its control connection (exited or was killed)');
        return;
      }
      if (r[0]! < 0) return;
    }
  };
}

type SwappableWatcher = Watcher & { onEvent: () => void };

/** A watcher whose callback can be swapped (handshake, then liveness). */
function newWatcher(addon: Addon, fd: number): SwappableWatcher {
  const holder = { onEvent: () => {} };
  const w = new addon.Watcher(fd, false, () => holder.onEvent());
  return {
    close: () => w.close(),
    ref: () => w.ref(),
    unref: () => w.unref(),
    set onEvent(f: () => void) {
      holder.onEvent = f;
    },
    get onEvent() {
      return holder.onEvent;
    },
  };
}

function checkMode(m: unknown, fallback: ShmMode): ShmMode {
  if (m === undefined) return fallback;
  if (typeof m !== 'string' || !SHM_MODES.includes(m as ShmMode)) throw new ShmError('invalid', `shm: unknown mode "${String(m)}"`);
  return m as ShmMode;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const cpuList = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number').slice(0, 4096) : []);

/**
 * Listens on `shm!/path` and calls `onConn` with a Conn for every partition that dials it,
 * each on its own segment (typically `(c) => server.serve(c)`). A stale socket file (nobody
 * listening) is replaced; a live one is an error. Throws ShmError('no-addon') where the
 * native addon is unavailable.
 */
export async function listenShm(addr: string, onConn: (c: ShmConn) => void, opts: ShmListenOptions & { handshakeMs?: number } = {}): Promise<Listener> {
  const path = parseShmAddr(addr);
  const addon = loadAddon();
  if (fs.existsSync(path)) {
    let alive = false;
    try {
      addon.closeFd(addon.unixConnect(path));
      alive = true;
    } catch {
      fs.rmSync(path, { force: true });
    }
    if (alive) throw new ShmError('invalid', `shm: listen ${addr}: address in use`);
  }
  let lfd: number;
  try {
    lfd = addon.unixListen(path, 511);
  } catch (err) {
    throw new ShmError('invalid', `shm: listen ${addr}: ${(err as Error).message}`);
  }
  const pending = new Set<() => void>();
  const lw = new addon.Watcher(lfd, false, () => {
    for (;;) {
      let c: number;
      try {
        c = addon.unixAccept(lfd);
      } catch {
        return;
      }
      if (c < 0) return;
      handshakeServer(addon, c, addr, opts, onConn, pending);
    }
  });
  let closed = false;
  return {
    addr,
    close: async () => {
      if (closed) return;
      closed = true;
      lw.close();
      addon.closeFd(lfd);
      for (const abort of [...pending]) abort();
      fs.rmSync(path, { force: true });
    },
  };
}

function handshakeServer(addon: Addon, fd: number, addr: string, opts: ShmListenOptions & { handshakeMs?: number }, onConn: (c: ShmConn) => void, pending: Set<() => void>): void {
  const w = newWatcher(addon, fd);
  const reader = new MsgReader();
  const abort = () => {
    clearTimeout(timer);
    pending.delete(abort);
    w.close();
    closeAll(addon, reader.fds);
    addon.closeFd(fd);
  };
  const timer = setTimeout(abort, opts.handshakeMs ?? 5000);
  pending.add(abort);
  w.onEvent = () => {
    let hello: ReturnType<MsgReader['read']>;
    try {
      hello = reader.read(addon, fd);
    } catch {
      return abort();
    }
    if (hello === 'more') return;
    if (hello === 'eof' || reader.fds.length > 0 || hello.v !== 1) return abort();
    clearTimeout(timer);
    pending.delete(abort);
    let conn: ShmConn;
    try {
      conn = acceptProc(addon, fd, addr, hello, opts);
    } catch {
      return abort();
    }
    watchControl(addon, fd, w, conn);
    onConn(conn);
  };
}

function acceptProc(addon: Addon, fd: number, addr: string, hello: Record<string, unknown>, opts: ShmListenOptions): ShmConn {
  const layout = makeLayout({
    ringSize: num(hello.ringSize) ?? opts.ringSize,
    slotCount: num(hello.slotCount) ?? opts.slotCount,
    slotSize: num(hello.slotSize) ?? opts.slotSize,
  });
  if (layout.size > (opts.maxSegment ?? 256 * 1024 * 1024)) throw new ShmError('invalid', `shm: segment of ${layout.size} bytes refused`);
  const mode = opts.mode ?? checkMode(hello.mode, 'adaptive');
  const made: number[] = [];
  try {
    const memfd = addon.memfdCreate('prose-shm', layout.size);
    made.push(memfd);
    const sab = addon.mapShared(memfd, layout.size);
    initSegment(sab, layout);
    const bell0 = addon.eventfd();
    made.push(bell0);
    const bell1 = addon.eventfd();
    made.push(bell1);
    const cpus = threadCpus();
    const reply = frameMsg({ v: 1, ringSize: layout.ringSize, slotCount: layout.slotCount, slotSize: layout.slotSize, mode, cpus, pid: process.pid });
    if (addon.sendMsg(fd, reply, reply.length, [memfd, bell0, bell1]) !== reply.length) throw new Error('short control write');
    addon.closeFd(memfd); // the mappings keep the segment; the kernel frees it with the last one
    const conn = makeProcConn(addon, sab, layout, 0, bell0, bell1, mode, opts.spinUs, undefined, opts.sharedCpu ?? shareOneCpu(cpus, cpuList(hello.cpus)), addr);
    return conn;
  } catch (err) {
    closeAll(addon, made);
    throw err;
  }
}

function makeProcConn(addon: Addon, sab: SharedArrayBuffer, layout: Layout, side: number, bell0: number, bell1: number, mode: ShmMode, spinUs: number | undefined, blockUs: number | undefined, sharedCpu: boolean, addr: string): ShmConn {
  const own = side === 0 ? bell0 : bell1;
  const peer = side === 0 ? bell1 : bell0;
  const sig = new FdSignaller(addon, own, peer);
  const ep = new Endpoint(sab, layout, side, () => sig.ringPeer());
  const conn = new ShmConn(ep, sig, { mode, spinUs, blockUs, sharedCpu, local: addr, remote: addr });
  sig.onWake = conn.wake;
  return conn;
}

/**
 * Dials `shm!/path`: connects to the control socket, receives a fresh segment and its
 * doorbells, and resolves with a Conn (side 1). Everything the listener sent is checked
 * before use: exactly three fds, a sealed memfd at least as big as the announced layout,
 * two eventfds. Rejects with ShmError ('no-addon', 'handshake', 'invalid').
 */
export async function dialShm(addr: string, opts: ShmConnectOptions = {}): Promise<ShmConn> {
  const path = parseShmAddr(addr);
  const addon = loadAddon();
  const mode = checkMode(opts.mode, 'adaptive');
  return new Promise((resolve, reject) => {
    let fd: number;
    try {
      fd = addon.unixConnect(path);
    } catch (err) {
      reject(new ShmError('handshake', `shm: dial ${addr}: ${(err as Error).message}`));
      return;
    }
    const cpus = threadCpus();
    const hello = frameMsg({ v: 1, mode, cpus, pid: process.pid, ringSize: opts.ringSize, slotCount: opts.slotCount, slotSize: opts.slotSize });
    const w = newWatcher(addon, fd);
    const reader = new MsgReader();
    const fail = (why: string) => {
      clearTimeout(timer);
      w.close();
      closeAll(addon, reader.fds);
      addon.closeFd(fd);
      reject(new ShmError('handshake', `shm: dial ${addr}: ${why}`));
    };
    const timer = setTimeout(() => fail('timed out'), opts.timeoutMs ?? 5000);
    try {
      if (addon.sendMsg(fd, hello, hello.length, []) !== hello.length) return fail('short control write');
    } catch (err) {
      return fail((err as Error).message);
    }
    w.onEvent = () => {
      let r: ReturnType<MsgReader['read']>;
      try {
        r = reader.read(addon, fd);
      } catch (err) {
        return fail((err as Error).message);
      }
      if (r === 'more') return;
      if (r === 'eof') return fail('listener closed the connection (refused)');
      clearTimeout(timer);
      let conn: ShmConn;
      try {
        conn = openProc(addon, r, reader.fds, mode, opts, cpus, addr);
      } catch (err) {
        return fail((err as Error).message);
      }
      reader.fds = [];
      watchControl(addon, fd, w, conn);
      resolve(conn);
    };
  });
}

function fdTarget(fd: number): string {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

function openProc(addon: Addon, r: Record<string, unknown>, fds: number[], mode: ShmMode, opts: ShmConnectOptions, cpus: number[], addr: string): ShmConn {
  if (r.v !== 1) throw new Error(`listener speaks version ${String(r.v)}`);
  if (fds.length !== 3) throw new Error(`listener passed ${fds.length} fds, want 3`);
  const [memfd, bell0, bell1] = fds as [number, number, number];
  const layout = makeLayout({ ringSize: num(r.ringSize), slotCount: num(r.slotCount), slotSize: num(r.slotSize) });
  const [size, seals, sealShrink] = addon.fdInfo(memfd);
  if (size < layout.size) throw new Error(`segment of ${size} bytes is smaller than its layout (${layout.size})`);
  if ((seals & sealShrink) === 0) throw new Error('segment is not sealed against shrinking');
  if (!fdTarget(bell0).includes('eventfd') || !fdTarget(bell1).includes('eventfd')) throw new Error('doorbells are not eventfds');
  const sab = addon.mapShared(memfd, layout.size);
  addon.closeFd(memfd);
  fds.splice(0, 1);
  if (!checkSegment(sab, layout)) throw new Error('segment does not carry its layout');
  const sharedCpu = opts.sharedCpu ?? shareOneCpu(cpus, cpuList(r.cpus));
  const conn = makeProcConn(addon, sab, layout, 1, bell0, bell1, mode, opts.spinUs, opts.blockUs, sharedCpu, addr);
  fds.length = 0; // the Conn owns the bells now
  return conn;
}

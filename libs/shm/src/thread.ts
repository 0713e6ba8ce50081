/**
 * Channels between threads of one process: the segment is a SharedArrayBuffer, and a
 * MessagePort per channel is the liveness signal (its 'close' fires when the other thread
 * closes it or is terminated). The doorbells are eventfds watched in each thread's event loop
 * when the native addon is there for both threads (fd-signaller.ts: a wake-up like any I/O),
 * else Atomics.notify/waitAsync on a word of the segment (ThreadSignaller; waitAsync's wake-up
 * goes through V8's task queue and costs 3–4 µs more per round trip).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Listener } from '@prose/transport';
import { threadCpus, shareOneCpu } from './affinity.js';
import { Endpoint } from './channel.js';
import { SHM_MODES, ShmConn, type ShmMode, type Signaller } from './conn.js';
import { ShmError } from './errors.js';
import { bellAddon, FdSignaller, threadBells } from './fd-signaller.js';
import { checkSegment, initSegment, makeLayout, wBell, type Layout, type LayoutOptions } from './layout.js';

type WaitAsync = (ta: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Doorbells between threads: a counter word per side, Atomics.notify to ring, waitAsync to sleep. */
export class ThreadSignaller implements Signaller {
  onWake: () => void = () => {};
  private waiting = false;
  private closed = false;
  private readonly w: Int32Array;

  constructor(
    sab: SharedArrayBuffer,
    private readonly side: number,
  ) {
    this.w = new Int32Array(sab, 0, 1024);
  }

  ringPeer(): void {
    const i = wBell(1 - this.side);
    Atomics.add(this.w, i, 1);
    Atomics.notify(this.w, i); // all: a blocking wait and a pending waitAsync may both be on it
  }

  prepare(): number {
    return Atomics.load(this.w, wBell(this.side));
  }

  wait(token: number): void {
    if (this.waiting || this.closed) return; // a pending wait is woken by the next ring anyway
    const r = waitAsync(this.w, wBell(this.side), token);
    if (!r.async) {
      setImmediate(() => this.closed || this.onWake());
      return;
    }
    this.waiting = true;
    (r.value as Promise<string>).then(() => {
      this.waiting = false;
      if (!this.closed) this.onWake();
    });
  }

  block(token: number, us: number): boolean {
    return !this.closed && Atomics.wait(this.w, wBell(this.side), token, us / 1000) !== 'timed-out';
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const i = wBell(this.side);
    Atomics.add(this.w, i, 1);
    Atomics.notify(this.w, i); // releases our own pending wait
  }
}

export interface ShmConnectOptions extends LayoutOptions {
  /** How this side waits (default adaptive). */
  mode?: ShmMode;
  /** Adaptive spin budget, µs (default 30). */
  spinUs?: number;
  /**
   * A dialer that sleeps (notify, or adaptive on a shared CPU): after a send, block in the
   * kernel up to this many µs for the reply before leaving it to the event loop, which is held
   * meanwhile. Default 0 (never); at most 10000; worth it only above the kernel's tick (e.g.
   * 5000 with HZ=250). Not for a peer in the same thread. See the README's "Signalling modes".
   */
  blockUs?: number;
  /** Override the CPU-sharing detection (true: never spin). */
  sharedCpu?: boolean;
  /** Give up the handshake after this many ms (default 5000). */
  timeoutMs?: number;
}

/** Two connected Conns in this thread over one segment (tests, embedding, benchmarks). */
export function shmPair(opts: ShmConnectOptions = {}): [ShmConn, ShmConn] {
  const layout = makeLayout(opts);
  const sab = new SharedArrayBuffer(layout.size);
  initSegment(sab, layout);
  const mode = checkMode(opts.mode);
  const make = (side: number) => {
    const sig = new ThreadSignaller(sab, side);
    const ep = new Endpoint(sab, layout, side, () => sig.ringPeer());
    const name = `shm!pair!${side}`;
    const c = new ShmConn(ep, sig, { mode, spinUs: opts.spinUs, blockUs: opts.blockUs, sharedCpu: opts.sharedCpu ?? false, local: name, remote: `shm!pair!${1 - side}` });
    sig.onWake = c.wake;
    return c;
  };
  const a = make(0);
  const b = make(1);
  a.attachLiveness({ close: () => setImmediate(() => b.peerGone('peer closed')) });
  b.attachLiveness({ close: () => setImmediate(() => a.peerGone('peer closed')) });
  return [a, b];
}

function checkMode(m: ShmMode | undefined): ShmMode {
  const mode = m ?? 'adaptive';
  if (!SHM_MODES.includes(mode)) throw new ShmError('invalid', `shm: unknown mode "${String(m)}"`);
  return mode;
}

interface DialMsg {
  t: 'dial';
  mode: ShmMode;
  cpus: number[];
  port: MessagePort;
  layout: LayoutOptions;
  /** The dialing thread can use eventfd doorbells (the addon loads there). */
  fdBells?: boolean;
}

interface OkMsg {
  t: 'ok';
  sab: SharedArrayBuffer;
  ringSize: number;
  slotCount: number;
  slotSize: number;
  mode: ShmMode;
  cpus: number[];
  /** The dialer's eventfd doorbells [own, peer], when offered: then they are its to close. */
  bells?: [number, number];
}

export interface ShmThreadListener extends Listener {
  /**
   * A new endpoint port to hand to a thread (transfer it in postMessage or workerData); that
   * thread calls `dialShmThread(port)` as often as it likes, one channel per call.
   */
  connectPort(): MessagePort;
}

export interface ShmListenOptions extends LayoutOptions {
  /** Force this side's mode; by default each channel takes the mode its dialer asks for. */
  mode?: ShmMode;
  spinUs?: number;
  sharedCpu?: boolean;
  /** Largest segment a dialer may ask for, bytes (default 256 MiB). */
  maxSegment?: number;
}

/**
 * The clone multiplexer between threads: every dial through a port from `connectPort()` gets
 * its own segment and Conn, passed to `onConn` (e.g. `server.serve`).
 */
export function listenShmThreads(onConn: (c: ShmConn) => void, opts: ShmListenOptions = {}): ShmThreadListener {
  const ports = new Set<MessagePort>();
  let closed = false;
  return {
    addr: 'shm!thread',
    connectPort(): MessagePort {
      if (closed) throw new ShmError('invalid', 'shm: listener closed');
      const { port1, port2 } = new MessageChannel();
      ports.add(port1);
      port1.on('message', (m: DialMsg) => {
        if (!m || m.t !== 'dial' || !m.port) return;
        try {
          onConn(acceptThread(m, opts));
        } catch (err) {
          m.port.postMessage({ t: 'err', message: (err as Error).message });
          m.port.close();
        }
      });
      port1.on('close', () => ports.delete(port1));
      return port2;
    },
    close: async () => {
      closed = true;
      for (const p of ports) p.close();
      ports.clear();
    },
  };
}

function acceptThread(m: DialMsg, opts: ShmListenOptions): ShmConn {
  const layout = makeLayout({
    ringSize: m.layout?.ringSize ?? opts.ringSize,
    slotCount: m.layout?.slotCount ?? opts.slotCount,
    slotSize: m.layout?.slotSize ?? opts.slotSize,
  });
  if (layout.size > (opts.maxSegment ?? 256 * 1024 * 1024)) throw new ShmError('invalid', `shm: segment of ${layout.size} bytes refused`);
  const mode = checkMode(opts.mode ?? m.mode);
  const sab = new SharedArrayBuffer(layout.size);
  initSegment(sab, layout);
  const cpus = threadCpus();
  // eventfd doorbells when the dialer can use them too; the dialer's pair goes to it in the
  // reply. (A dialer that has given up by then never closes its pair: two descriptors leak.)
  const addon = m.fdBells === true ? bellAddon() : undefined;
  let sig: ThreadSignaller | FdSignaller = new ThreadSignaller(sab, 0);
  let bells: [number, number] | undefined;
  if (addon !== undefined) {
    const [own, theirs] = threadBells(addon);
    try {
      sig = new FdSignaller(addon, own[0], own[1]);
    } catch (err) {
      for (const fd of theirs) addon.closeFd(fd);
      throw err;
    }
    bells = theirs;
  }
  const conn = makeThreadConn(sab, layout, 0, sig, mode, opts.spinUs, undefined, opts.sharedCpu ?? shareOneCpu(cpus, m.cpus ?? []), m.port);
  const ok: OkMsg = { t: 'ok', sab, ...layoutWords(layout), mode, cpus, bells };
  m.port.postMessage(ok);
  return conn;
}

const layoutWords = (l: Layout) => ({ ringSize: l.ringSize, slotCount: l.slotCount, slotSize: l.slotSize });

function makeThreadConn(
  sab: SharedArrayBuffer, layout: Layout, side: number, sig: ThreadSignaller | FdSignaller, mode: ShmMode, spinUs: number | undefined,
  blockUs: number | undefined, sharedCpu: boolean, port: MessagePort,
): ShmConn {
  const ep = new Endpoint(sab, layout, side, () => sig.ringPeer());
  const conn = new ShmConn(ep, sig, { mode, spinUs, blockUs, sharedCpu, local: 'shm!thread', remote: 'shm!thread' });
  sig.onWake = conn.wake;
  port.on('close', () => conn.peerGone('peer thread went away'));
  port.on('message', () => {}); // keeps the port (and so the channel) referenced
  conn.attachLiveness({ close: () => port.close() });
  return conn;
}

/**
 * Dials a thread listener through a port from its `connectPort()`. Resolves with a Conn on a
 * fresh segment; rejects with ShmError('handshake') on refusal or timeout.
 */
export function dialShmThread(ctl: MessagePort, opts: ShmConnectOptions = {}): Promise<ShmConn> {
  const mode = checkMode(opts.mode);
  const { port1, port2 } = new MessageChannel();
  const cpus = threadCpus();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('timed out'), opts.timeoutMs ?? 5000);
    function fail(why: string) {
      clearTimeout(timer);
      port1.close();
      reject(new ShmError('handshake', `shm: thread dial: ${why}`));
    }
    port1.once('close', () => fail('listener went away'));
    port1.once('message', (r: OkMsg | { t: 'err'; message: string }) => {
      clearTimeout(timer);
      port1.removeAllListeners('close');
      if (r.t !== 'ok') return fail(r.t === 'err' ? r.message : 'bad reply');
      // The bells are ours from here: closed by the signaller, or now if the dial fails.
      const bells = Array.isArray(r.bells) && r.bells.length === 2 && addon !== undefined ? r.bells : undefined;
      let layout: Layout;
      try {
        layout = makeLayout(r);
      } catch (err) {
        return failWith(bells, (err as Error).message);
      }
      // (not instanceof: a SharedArrayBuffer from another realm, e.g. a Jest sandbox, is fine)
      if (Object.prototype.toString.call(r.sab) !== '[object SharedArrayBuffer]' || !checkSegment(r.sab, layout)) {
        return failWith(bells, 'segment does not match its layout');
      }
      let sig: ThreadSignaller | FdSignaller;
      try {
        sig = bells !== undefined ? new FdSignaller(addon!, bells[0], bells[1]) : new ThreadSignaller(r.sab, 1);
      } catch (err) {
        return fail(`doorbell: ${(err as Error).message}`);
      }
      const sharedCpu = opts.sharedCpu ?? shareOneCpu(cpus, r.cpus ?? []);
      resolve(makeThreadConn(r.sab, layout, 1, sig, mode, opts.spinUs, opts.blockUs, sharedCpu, port1));
    });
    function failWith(bells: [number, number] | undefined, why: string) {
      if (bells !== undefined) for (const fd of bells) addon!.closeFd(fd);
      fail(why);
    }
    const addon = bellAddon();
    const dial: DialMsg = {
      t: 'dial', mode, cpus, port: port2, layout: { ringSize: opts.ringSize, slotCount: opts.slotCount, slotSize: opts.slotSize },
      fdBells: addon !== undefined,
    };
    ctl.postMessage(dial, [port2]);
  });
}

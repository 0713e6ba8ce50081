/**
 * ShmConn: the transport's Conn over a channel's two rings, with the three ways of waiting.
 *
 * - `poll`: the ring is checked on every event-loop turn (setImmediate); no doorbell is ever
 *   rung. Lowest latency when the peers run on different CPUs; a core at 100%.
 * - `notify`: after the work at hand, the side sets its sleeping flags (Dekker-style, seq_cst),
 *   re-checks, and waits on its doorbell — Atomics.waitAsync between threads, an eventfd in
 *   the event loop between processes. The event loop stays free; idle CPU is ~0.
 * - `adaptive`: polls for `spinUs` after the last activity (a frame sent or received), then
 *   sleeps as in notify. With the peers on one CPU the spin budget is 0.
 * `poll` with the peers on one CPU would cost a scheduler slice per message: it runs as notify
 * (see `ShmConn.mode`). Modes are per side and may differ: a sender rings only when the peer
 * has said it sleeps.
 */
import type { Conn, ConnHandler } from '@prose/transport';
import type { Endpoint, RxSink } from './channel.js';
import { ShmError } from './errors.js';

export type ShmMode = 'poll' | 'notify' | 'adaptive';
export const SHM_MODES: readonly ShmMode[] = ['poll', 'notify', 'adaptive'];

/** Default spin budget of adaptive mode, in µs. */
export const DEFAULT_SPIN_US = 30;

/**
 * A receiver that takes frames in place. If the handler given to `ShmConn.start` has
 * `frameRef`, frames that sit in a payload slot are passed to it as views into the shared
 * segment, with a `release` to call once nothing reads the view any more (until then the slot
 * is not reused; after it the view must not be read). Frames that sit in the ring, and every
 * frame for a handler without `frameRef`, arrive through `frame` as copies.
 */
export interface ZeroCopyHandler extends ConnHandler {
  frameRef?(frame: Buffer, release: () => void): void;
}

/** How one side sleeps and wakes its peer. */
export interface Signaller {
  /** Rings the peer's doorbell. */
  ringPeer(): void;
  /** A token to take before arming the sleeping flags (thread mode: the bell's value). */
  prepare(): number;
  /** Waits for the own doorbell, then calls the wake callback once (thread); no-op when the doorbell is always watched (process). */
  wait(token: number): void;
  /** Releases waits and resources. */
  close(): void;
}

/** Something that says when the peer is gone: a MessagePort's or a control socket's close. */
export interface Liveness {
  close(): void;
}

export interface ShmConnOptions {
  mode: ShmMode;
  /** True when the peers can only run on one CPU: no spinning then. */
  sharedCpu: boolean;
  spinUs?: number;
  local: string;
  remote: string;
}

/** Frames handed to the handler per turn before the event loop gets a say. */
const BATCH = 64;

/** One setImmediate loop per thread that polls every polling Conn. */
class PollLoop {
  private readonly conns = new Set<ShmConn>();
  private scheduled = false;
  add(c: ShmConn): void {
    this.conns.add(c);
    this.schedule();
  }
  delete(c: ShmConn): void {
    this.conns.delete(c);
  }
  private schedule(): void {
    if (this.scheduled || this.conns.size === 0) return;
    this.scheduled = true;
    setImmediate(this.run);
  }
  private readonly run = (): void => {
    this.scheduled = false;
    const now = performance.now();
    for (const c of this.conns) c.pollTurn(now);
    this.schedule();
  };
}
const pollLoop = new PollLoop();

export class ShmConn implements Conn {
  readonly local: string;
  readonly remote: string;
  /** The waiting mode in effect (poll on a shared CPU runs as notify). */
  readonly mode: ShmMode;
  /** Adaptive spin budget in effect, µs. */
  readonly spinUs: number;

  private handler: ZeroCopyHandler | undefined;
  private isClosed = false;
  private paused = false;
  private polling = false;
  private sleeping = false;
  private lastActivity = 0;
  private kickScheduled = false;
  private drainWaiters: Array<() => void> = [];
  private liveness: Liveness | undefined;
  private readonly sink: RxSink;

  constructor(
    private readonly ep: Endpoint,
    private readonly sig: Signaller,
    opts: ShmConnOptions,
  ) {
    this.local = opts.local;
    this.remote = opts.remote;
    this.mode = opts.mode === 'poll' && opts.sharedCpu ? 'notify' : opts.mode;
    this.spinUs = this.mode === 'adaptive' && !opts.sharedCpu ? (opts.spinUs ?? DEFAULT_SPIN_US) : 0;
    const self = this;
    this.sink = {
      get zeroCopy() {
        return typeof self.handler?.frameRef === 'function';
      },
      get paused() {
        return self.paused || self.isClosed;
      },
      deliver(frame, release) {
        if (release) self.handler!.frameRef!(frame, release);
        else self.handler!.frame(frame);
      },
    };
  }

  /** Called by the endpoint that made this Conn, once the liveness watch is set up. */
  attachLiveness(l: Liveness): void {
    this.liveness = l;
    if (this.isClosed) l.close();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Transfer counters (frames by path): what the copies-per-path table in the README counts. */
  get stats(): Readonly<Endpoint['stats']> {
    return this.ep.stats;
  }

  start(handler: ConnHandler): void {
    if (this.handler) throw new Error('Conn.start called twice');
    this.handler = handler as ZeroCopyHandler;
    if (this.isClosed) {
      handler.close(this.closeErr);
      return;
    }
    this.lastActivity = performance.now();
    if (this.sleeps) this.wake();
    else this.startPolling();
  }

  /** True when this side sleeps between messages (notify, or adaptive without a spin budget). */
  private get sleeps(): boolean {
    return this.mode === 'notify' || (this.mode === 'adaptive' && this.spinUs === 0);
  }

  send(frame: Buffer | readonly Buffer[]): boolean {
    if (this.isClosed) return false;
    let ok: boolean;
    try {
      ok = this.ep.send(Buffer.isBuffer(frame) ? [frame] : frame);
    } catch (err) {
      this.close(err as Error);
      return false;
    }
    if (!this.sleeps) {
      // A request out means a reply soon: poll for it rather than pay a wake-up.
      this.lastActivity = performance.now();
      if (!this.polling) this.startPolling();
    } else if (!ok && !this.kickScheduled) {
      this.sleep(); // (re-)arm with the producer flag: the peer rings when it frees space
    }
    return ok;
  }

  drain(): Promise<void> {
    if (this.isClosed || this.ep.txQueued === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.kick();
  }

  setMaxFrame(n: number): void {
    this.ep.maxFrame = n;
  }

  /**
   * A writable view of `n` bytes inside a free payload slot of the segment, or undefined
   * (none free, or `n` bigger than a slot). Fill it and send `[header, view]`: the payload is
   * not copied, and a zero-copy receiver gets it in place. Send it or `unreserve` it soon:
   * the slot is not reused until then.
   */
  reserve(n: number): Buffer | undefined {
    return this.isClosed ? undefined : this.ep.reserve(n);
  }

  /** Gives back a view from `reserve` that will not be sent. */
  unreserve(view: Buffer): void {
    this.ep.unreserve(view);
  }

  private closeErr: Error | undefined;

  close(err?: Error): void {
    if (this.isClosed) return;
    if (!err) {
      try {
        this.ep.flush();
      } catch {
        // a corrupt tail: nothing more to send anyway
      }
    }
    this.ep.markClosed();
    try {
      this.sig.ringPeer();
    } catch {
      // the peer's doorbell may already be gone
    }
    this.finish(err);
  }

  /** The liveness signal fired: orderly if the peer had marked the channel closed, else it died. */
  peerGone(what: string): void {
    if (this.isClosed) return;
    const orderly = this.ep.peerClosed();
    this.pump();
    if (this.isClosed) return;
    if (orderly && this.paused && this.ep.rxReady()) return; // frames wait for resume(); pump closes after them
    this.finish(orderly ? undefined : new ShmError('peer-gone', `shm: ${what}`));
  }

  // ---- the run loop -----------------------------------------------------------------------

  /** Does all the work available now. Returns true if anything moved. */
  private pump(): boolean {
    if (this.isClosed) return false;
    let worked = false;
    try {
      if (this.ep.txQueued > 0) {
        const before = this.ep.txQueued;
        if (this.ep.flush()) this.wakeDrain();
        worked = this.ep.txQueued !== before;
      }
      if (this.handler && !this.paused) {
        const n = this.ep.receive(this.sink, BATCH);
        if (n > 0) worked = true;
        if (n === BATCH) this.kick();
      }
      if (!this.isClosed && this.ep.peerClosed() && !this.ep.rxReady() && this.handler) this.finish(undefined);
    } catch (err) {
      this.close(err as Error);
    }
    return worked;
  }

  /** Runs the loop on the next turn (used to avoid recursion and to yield). */
  private kick(): void {
    if (this.kickScheduled || this.isClosed) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      if (this.polling) return; // the poll loop runs anyway
      this.wake();
    });
  }

  /** The doorbell rang (or a kick): do the work, then poll or sleep again. */
  readonly wake = (): void => {
    if (this.isClosed) return;
    if (this.sleeping) {
      this.sleeping = false;
      this.ep.disarmSleep();
    }
    if (this.pump()) this.lastActivity = performance.now();
    if (this.isClosed || this.polling) return;
    if (this.sleeps) this.sleep();
    else this.startPolling();
  };

  private startPolling(): void {
    if (this.isClosed || this.polling) return;
    if (this.sleeping) {
      this.sleeping = false;
      this.ep.disarmSleep();
    }
    this.polling = true;
    pollLoop.add(this);
  }

  private stopPolling(): void {
    if (!this.polling) return;
    this.polling = false;
    pollLoop.delete(this);
  }

  /** One turn of the poll loop. */
  pollTurn(now: number): void {
    if (this.pump()) {
      this.lastActivity = performance.now();
      return;
    }
    if (this.isClosed) return;
    if (this.mode === 'adaptive' && now - this.lastActivity > this.spinUs / 1000) {
      this.stopPolling();
      this.sleep();
    }
  }

  /** Sets the sleeping flags, re-checks, and waits for the doorbell. */
  private sleep(): void {
    if (this.isClosed) return;
    const wantRx = this.handler !== undefined && !this.paused;
    const wantTx = this.ep.txQueued > 0;
    if (!wantRx && !wantTx) {
      this.sleeping = false; // nothing to wait for: resume()/send() restart the loop
      return;
    }
    const token = this.sig.prepare();
    if (!this.ep.armSleep(wantRx, wantTx)) {
      this.kick();
      return;
    }
    this.sleeping = true;
    this.sig.wait(token);
  }

  private wakeDrain(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  private finish(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeErr = err;
    this.stopPolling();
    if (this.sleeping) {
      this.sleeping = false;
      this.ep.disarmSleep();
    }
    this.sig.close();
    this.liveness?.close();
    this.wakeDrain();
    this.handler?.close(err);
  }
}

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
 *
 * A sleeping side may also wait for a reply with a bounded blocking wait (option `blockUs`,
 * off by default): after a send, once the caller's synchronous work is done, it arms its flags
 * and blocks in the kernel on its doorbell for at most `blockUs`. A reply in time is taken
 * right there, without the event loop's wake-up path; otherwise the doorbell's loop watch
 * takes over as in plain notify. The thread gives its CPU away meanwhile (nothing spins), but
 * its event loop is held for up to `blockUs`. Only bounds longer than the kernel's tick pay
 * (see the README).
 */
import { Buffer } from 'node:buffer'; // not the globals: in Node 20 these two are getters on globalThis, read on every use
import { performance } from 'node:perf_hooks';
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
  /**
   * Optional: called before `prepare` on the way to a `block`, so that rings a loop watch left
   * unread do not end the block at once (an edge-triggered doorbell's counter; fd-signaller.ts).
   */
  beforeBlock?(): void;
  /** Waits for the own doorbell, then calls the wake callback once (thread); no-op when the doorbell is always watched (process). */
  wait(token: number): void;
  /**
   * Blocks this thread up to `us` µs for the own doorbell (taking the ring if it comes, so
   * the loop watch does not fire for it). True if it rang; false on timeout, after which a
   * `wait` still sees later rings. Call only with the sleeping flags armed after `prepare`.
   */
  block(token: number, us: number): boolean;
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
  /** Bounded blocking wait for replies, µs (0: off; at most MAX_BLOCK_US). Only a side that sleeps uses it. */
  blockUs?: number;
  local: string;
  remote: string;
}

/** Largest `blockUs`: the event loop is held at most this long per wait. */
export const MAX_BLOCK_US = 10000;

/** Bounded waits in a row taken in microtasks before one waits for a loop turn (timers, I/O). */
const BLOCK_CHAIN = 16;

/** Most sends to go without a bounded wait after waits that timed out (doubling per miss). */
const BLOCK_BACKOFF_MAX = 1024;

/** Times a wake-up re-takes frames that arrived while it armed its flags, before leaving it to a kick. */
const WAKE_ROUNDS = 4;

/** Frames handed to the handler per turn before the event loop gets a say. */
const BATCH = 64;

/**
 * How long a poll turn that found nothing keeps watching the rings before it yields to the
 * event loop, µs. A check is an Atomics.load (nanoseconds); a loop turn is an epoll_wait and
 * the phases around it (about a µs), which is what a reply would otherwise wait for. Timers
 * and sockets of the thread wait at most this much longer.
 */
const POLL_SPIN_US = 20;

/**
 * Where the endpoint hands received frames: plain fields that the receive loop reads per frame
 * (ShmConn keeps them in step), so that they stay field loads there, not getter calls.
 */
class Sink implements RxSink {
  handler: ZeroCopyHandler | undefined;
  zeroCopy = false;
  /** Paused or closed: stop taking frames. */
  paused = false;
  deliver(frame: Buffer, release: (() => void) | undefined): void {
    if (release) this.handler!.frameRef!(frame, release);
    else this.handler!.frame(frame);
  }
}

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
    let now = performance.now();
    let moved = false;
    for (const c of this.conns) if (c.pollTurn(now)) moved = true;
    if (!moved) {
      const until = now + POLL_SPIN_US / 1000;
      spin: for (let i = 1; this.conns.size > 0; i++) {
        for (const c of this.conns) {
          if (c.ready()) {
            c.pollTurn(now);
            break spin;
          }
        }
        if ((i & 31) === 0 && (now = performance.now()) > until) break;
      }
    }
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
  /** Bounded blocking wait for a reply in effect, µs (0 unless this side sleeps). */
  readonly blockUs: number;
  /** True when this side sleeps between messages (notify, or adaptive without a spin budget). */
  private readonly sleeps: boolean;
  /** Bounded waits that the doorbell ended (`hits`) and that timed out (`misses`): for tests and the bench. */
  readonly blockStats = { hits: 0, misses: 0 };

  private handler: ZeroCopyHandler | undefined;
  private isClosed = false;
  private paused = false;
  private polling = false;
  private sleeping = false;
  private lastActivity = 0;
  private kickScheduled = false;
  private blockScheduled = false;
  /** The last bounded wait timed out: none again until a frame has come through the loop. */
  private blockMissed = false;
  /** Sends still to go without a bounded wait, and the current backoff after misses. */
  private blockSkip = 0;
  private blockBackoff = 0;
  /** Bounded waits since the event loop last had a turn. */
  private blockChain = 0;
  private drainWaiters: Array<() => void> = [];
  private liveness: Liveness | undefined;
  private readonly sink = new Sink();

  constructor(
    private readonly ep: Endpoint,
    private readonly sig: Signaller,
    opts: ShmConnOptions,
  ) {
    this.local = opts.local;
    this.remote = opts.remote;
    this.mode = opts.mode === 'poll' && opts.sharedCpu ? 'notify' : opts.mode;
    this.spinUs = this.mode === 'adaptive' && !opts.sharedCpu ? (opts.spinUs ?? DEFAULT_SPIN_US) : 0;
    this.sleeps = this.mode === 'notify' || (this.mode === 'adaptive' && this.spinUs === 0);
    this.blockUs = this.sleeps ? Math.max(0, Math.min(MAX_BLOCK_US, Math.floor(opts.blockUs ?? 0))) : 0;
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

  /** Payload slots in use (see the README's zero-copy section): for tests and diagnostics. */
  slotUse(): { held: number; lent: number; reserved: number } {
    return this.ep.slotUse();
  }

  start(handler: ConnHandler): void {
    if (this.handler) throw new Error('Conn.start called twice');
    this.handler = handler as ZeroCopyHandler;
    this.sink.handler = this.handler;
    this.sink.zeroCopy = typeof this.handler.frameRef === 'function';
    if (this.isClosed) {
      handler.close(this.closeErr);
      return;
    }
    this.lastActivity = performance.now();
    if (this.sleeps) this.wake();
    else this.startPolling();
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
      this.touch();
      if (!this.polling) this.startPolling();
    } else {
      if (!ok && !this.kickScheduled) this.sleep(); // (re-)arm with the producer flag: the peer rings when it frees space
      if (this.blockUs > 0 && !this.blockScheduled && !this.blockMissed) {
        if (this.blockSkip > 0) this.blockSkip--;
        else {
          // after the caller's synchronous work; through a loop turn now and then
          this.blockScheduled = true;
          if (++this.blockChain <= BLOCK_CHAIN) queueMicrotask(this.blockWait);
          else setImmediate(this.blockWait);
        }
      }
    }
    return ok;
  }

  drain(): Promise<void> {
    if (this.isClosed || this.ep.txQueued === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  pause(): void {
    this.paused = true;
    this.sink.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.sink.paused = this.isClosed;
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
      this.blockChain = 0;
      if (this.polling) return; // the poll loop runs anyway
      this.wake();
    });
  }

  /**
   * The doorbell rang (or a kick): do the work, then poll or sleep again. Frames that arrive
   * while it arms its flags (on one CPU the peer often answers before we get there) are taken
   * at once, up to WAKE_ROUNDS times, instead of in another loop turn.
   */
  readonly wake = (): void => {
    this.blockChain = 0;
    for (let round = 1; !this.isClosed; round++) {
      if (this.sleeping) {
        this.sleeping = false;
        this.ep.disarmSleep();
      }
      if (this.pump()) {
        this.touch();
        this.blockMissed = false;
      }
      if (this.isClosed || this.polling) return;
      if (!this.sleeps) return this.startPolling();
      if (this.blockScheduled) return; // blockWait arms (or blocks) later on this turn
      if (this.sleep(round === WAKE_ROUNDS)) return;
    }
  };

  /**
   * The bounded blocking wait, after a send: if the reply is not there yet, arms the flags and
   * blocks on the doorbell for at most `blockUs`. What came is taken now; the sleep is left to
   * a kick, so a request sent by the reply's continuation waits here again without arming a
   * loop-side wait (and without a ring it would have to take back). On a timeout this side
   * stays armed and the doorbell's loop watch takes over, as in plain notify.
   */
  private readonly blockWait = (): void => {
    this.blockScheduled = false;
    if (this.isClosed) return;
    if (!this.handler || this.paused) return this.wake();
    if (!this.ep.rxReady()) {
      this.sig.beforeBlock?.();
      const token = this.sig.prepare();
      if (this.ep.armSleep(true, this.ep.txQueued > 0)) {
        this.sleeping = true;
        if (!this.sig.block(token, this.blockUs)) {
          this.blockStats.misses++;
          this.blockMissed = true;
          this.blockBackoff = Math.min(BLOCK_BACKOFF_MAX, this.blockBackoff * 2 || 1);
          this.blockSkip = this.blockBackoff;
          this.sig.wait(token);
          return;
        }
        this.blockStats.hits++;
        this.blockBackoff = 0;
      }
    }
    if (this.sleeping) {
      this.sleeping = false;
      this.ep.disarmSleep();
    }
    if (this.pump()) this.touch();
    this.kick();
  };

  /** Notes activity: the adaptive spin budget runs from the last one (only adaptive reads it). */
  private touch(): void {
    if (this.mode === 'adaptive') this.lastActivity = performance.now();
  }

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

  /** One turn of the poll loop. Returns true if anything moved. */
  pollTurn(now: number): boolean {
    if (this.pump()) {
      this.touch();
      return true;
    }
    if (this.isClosed) return false;
    if (this.mode === 'adaptive' && now - this.lastActivity > this.spinUs / 1000) {
      this.stopPolling();
      this.sleep();
    }
    return false;
  }

  /** True when a poll turn would find something: frames to take, or the peer gone. */
  ready(): boolean {
    return !this.isClosed && ((this.handler !== undefined && !this.paused && this.ep.rxReady()) || this.ep.peerClosed());
  }

  /**
   * Sets the sleeping flags, re-checks, and waits for the doorbell. Returns false if there was
   * something to do after all (flags cleared again): the caller takes it, or with `kickIfBusy`
   * a kick does on the next turn.
   */
  private sleep(kickIfBusy = true): boolean {
    if (this.isClosed) return true;
    const wantRx = this.handler !== undefined && !this.paused;
    const wantTx = this.ep.txQueued > 0;
    if (!wantRx && !wantTx) {
      this.sleeping = false; // nothing to wait for: resume()/send() restart the loop
      return true;
    }
    const token = this.sig.prepare();
    if (!this.ep.armSleep(wantRx, wantTx)) {
      if (!kickIfBusy) return false;
      this.kick();
      return true;
    }
    this.sleeping = true;
    this.sig.wait(token);
    return true;
  }

  private wakeDrain(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  private finish(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.sink.paused = true;
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

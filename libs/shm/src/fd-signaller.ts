/**
 * Doorbells on eventfds (through the native addon): the own one watched by a uv_poll in this
 * thread's event loop, the peer's written to ring it. Between processes each side holds
 * descriptors of its own (passed with SCM_RIGHTS); between threads of one process the listener
 * makes each side its own descriptors too (`threadBells`, with dup), so either side can close
 * what it holds, whenever, without closing a number the other side still writes to.
 *
 * Why between threads too: a ring through an eventfd wakes the peer's loop like any I/O, while
 * Atomics.waitAsync's wake-up goes through V8's platform task queue — 3–4 µs more per round
 * trip measured here (see the README's figures).
 *
 * The own doorbell is watched edge-triggered (the addon's Watcher with `edge`): a wake-up then
 * costs no read of the eventfd, 0.4–0.6 µs of a notify round trip between processes on one CPU
 * here. Its counter is left unread, so a bounded blocking wait (`block`, ppoll on the same
 * eventfd) first empties it (`beforeBlock`). PROSE_SHM_EDGE=0 turns it off (level-triggered,
 * drained at every wake-up).
 */
import type { Signaller } from './conn.js';
import { ShmError } from './errors.js';
import { loadAddon, type Addon, type Watcher } from './native.js';

export class FdSignaller implements Signaller {
  onWake: () => void = () => {};
  private readonly watcher: Watcher;
  private closed = false;

  /** Watchers of this addon close the descriptors handed to them (builds before dupFd do not). */
  private readonly watcherCloses: boolean;
  /** The own doorbell is watched edge-triggered: its counter is not drained at wake-ups. */
  private readonly edge = process.env.PROSE_SHM_EDGE !== '0';

  /**
   * Owns `ownFd` and `peerFd` from now on (closes them at `close`, or here if the watch fails).
   * The watcher closes them once its poll handle is closed — also when this thread's
   * environment is torn down (a worker terminated mid-channel), where no JS runs to do it.
   */
  constructor(
    private readonly addon: Addon,
    private readonly ownFd: number,
    private readonly peerFd: number,
  ) {
    this.watcherCloses = typeof addon.dupFd === 'function';
    try {
      const cb = () => this.closed || this.onWake();
      this.watcher = this.watcherCloses ? new addon.Watcher(ownFd, true, cb, [ownFd, peerFd], this.edge) : new addon.Watcher(ownFd, true, cb);
    } catch (err) {
      addon.closeFd(ownFd);
      addon.closeFd(peerFd);
      throw err;
    }
    this.watcher.unref(); // the liveness signal (control socket, MessagePort) keeps the loop alive
  }

  ringPeer(): void {
    if (!this.closed) this.addon.signal(this.peerFd);
  }

  prepare(): number {
    return 0;
  }

  /** True once the own doorbell is watched edge-triggered (from its first wake-up). */
  get edgeTriggered(): boolean {
    return this.watcher.edge?.() === 2;
  }

  /** Empties the counter the edge-triggered watch leaves (else a block would see an old ring at once). */
  beforeBlock(): void {
    if (this.edge && !this.closed) this.addon.waitFd(this.ownFd, 0);
  }

  wait(): void {
    // the eventfd is always watched
  }

  block(_token: number, us: number): boolean {
    return !this.closed && this.addon.waitFd(this.ownFd, us);
  }

  /** Keeps this thread's event loop alive while the doorbell is watched (channels leave that to their liveness signal). */
  keepAlive(): void {
    this.watcher.ref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    if (!this.watcherCloses) {
      this.addon.closeFd(this.ownFd);
      this.addon.closeFd(this.peerFd);
    }
  }
}

/** The addon, when it is loaded and can dup descriptors (an older build cannot); else undefined. */
export function bellAddon(): Addon | undefined {
  try {
    const a = loadAddon();
    return typeof a.dupFd === 'function' ? a : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Doorbells for a channel between two threads of this process: two eventfds, and for each side
 * its own descriptors [own, peer] (side 0 sleeps on the first eventfd, side 1 on the second).
 */
export function threadBells(addon: Addon): [[number, number], [number, number]] {
  const made: number[] = [];
  try {
    const b0 = addon.eventfd();
    made.push(b0);
    const b1 = addon.eventfd();
    made.push(b1);
    const b0too = addon.dupFd!(b0);
    made.push(b0too);
    const b1too = addon.dupFd!(b1);
    made.push(b1too);
    return [[b0, b1too], [b1, b0too]];
  } catch (err) {
    for (const fd of made) addon.closeFd(fd);
    throw err;
  }
}

/** One side's doorbell descriptors: [its own, its peer's]. */
export type DoorbellFds = readonly [number, number];

/**
 * The wake-up path of notify mode on its own, with no ring and no 9P: what a channel between
 * two event loops costs at least (the channel bench's 'raw-loop-wait' floor). `doorbellPair()`
 * makes the descriptors for two threads of this process; each thread makes a Doorbell of its
 * side. `onRing` runs in this thread's event loop when the peer rings; the doorbell keeps the
 * loop alive until closed. Needs the addon (ShmError 'no-addon' otherwise).
 */
export class Doorbell {
  private readonly sig: FdSignaller;

  constructor(fds: DoorbellFds, onRing: () => void) {
    const addon = bellAddon() ?? loadAddon();
    this.sig = new FdSignaller(addon, fds[0], fds[1]);
    this.sig.onWake = onRing;
    this.sig.keepAlive();
  }

  /** Rings the peer (an eventfd write). */
  ring(): void {
    this.sig.ringPeer();
  }

  /** True once this side's doorbell is watched edge-triggered (see FdSignaller). */
  get edgeTriggered(): boolean {
    return this.sig.edgeTriggered;
  }

  close(): void {
    this.sig.close();
  }
}

/** Doorbell descriptors for two threads of this process: side 0's and side 1's. */
export function doorbellPair(): [DoorbellFds, DoorbellFds] {
  const addon = bellAddon();
  if (addon === undefined) {
    loadAddon(); // throws why it is missing
    throw new ShmError('no-addon', 'shm: the native addon predates dupFd; rebuild it with `npm run build:native -w @prose/shm`');
  }
  return threadBells(addon);
}

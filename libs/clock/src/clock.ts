/**
 * Clocks: the host's time as a source (wall clock with nanosecond resolution and a monotonic
 * clock), and `Clock`, a view of it that can be set, slewed and given a tick frequency the way
 * Plan 9's `time` and `bintime` writes do — without touching the host clock.
 */
import { Errno, NinepError } from '@prose/protocol';
import type { ClockSample } from './format.js';

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
/** Two clock reads further apart than this were interrupted: not a basis for re-anchoring. */
const SAMPLE_SLACK_NS = 50_000n;

/** Where a Clock reads time from. */
export interface TimeSource {
  /** Wall clock: ns since the epoch. May jump when the host clock is set. */
  wallNs(): bigint;
  /** Monotonic ns from an arbitrary origin: never goes back. */
  monoNs(): bigint;
}

/**
 * The host's clocks: `monoNs` is process.hrtime; `wallNs` is the monotonic clock anchored to
 * Date.now() at a millisecond edge, so it has nanosecond resolution and stays within about a
 * millisecond of the host clock. When the two part by more than 2 ms (the host clock was
 * stepped or slewed), it re-anchors.
 */
export class HostTime implements TimeSource {
  private anchorWall = 0n;
  private anchorMono = 0n;

  constructor() {
    // Wait for Date.now() to tick (at most ~1 ms, once) so the anchor sits on a ms edge.
    const t0 = Date.now();
    let t = t0;
    let m = process.hrtime.bigint();
    for (let i = 0; t === t0 && i < 1e6; i++) {
      m = process.hrtime.bigint();
      t = Date.now();
    }
    this.anchorWall = BigInt(t) * NS_PER_MS;
    this.anchorMono = m;
  }

  monoNs(): bigint {
    return process.hrtime.bigint();
  }

  wallNs(): bigint {
    const m = process.hrtime.bigint();
    const w = this.anchorWall + (m - this.anchorMono);
    const d = BigInt(Date.now()) * NS_PER_MS;
    if (w >= d - NS_PER_MS && w <= d + 2n * NS_PER_MS) return w;
    // Compare again with both clocks read back to back: a thread preempted between the two
    // reads above would otherwise look like a clock step.
    const m1 = process.hrtime.bigint();
    const d1 = BigInt(Date.now()) * NS_PER_MS;
    const m2 = process.hrtime.bigint();
    const w1 = this.anchorWall + (m1 - this.anchorMono);
    if (m2 - m1 > SAMPLE_SLACK_NS || (w1 >= d1 - NS_PER_MS && w1 <= d1 + 2n * NS_PER_MS)) return w1;
    this.anchorWall = d1 + NS_PER_MS / 2n;
    this.anchorMono = m1;
    return this.anchorWall;
  }
}

/** The host's clocks, shared. */
export const hostTime: TimeSource = new HostTime();

/** Plan 9's error for a bad write to `time` or `bintime`. */
export function badTimeCtl(why: string): NinepError {
  return new NinepError(`bad time control: ${why}`, Errno.EINVAL);
}

interface Slew {
  startMono: bigint;
  delta: bigint;
  periodNs: bigint;
}

/**
 * A clock over a TimeSource: ns since the epoch (the source's wall clock plus an offset this
 * clock owns), ns since its boot (the moment it was made; monotonic), and ticks at `freq`
 * (default 1 GHz: ticks are ns since boot). Setting it never changes the source.
 */
export class Clock {
  readonly source: TimeSource;
  /** The source's monotonic reading at boot. */
  readonly bootMono: bigint;
  private offset = 0n;
  private slew: Slew | undefined = undefined;
  private hz = NS_PER_S;

  constructor(source: TimeSource = hostTime) {
    this.source = source;
    this.bootMono = source.monoNs();
  }

  /** Ticks per second. */
  get freq(): bigint {
    return this.hz;
  }

  /** ns since boot: never goes back. */
  monotonic(): bigint {
    return this.source.monoNs() - this.bootMono;
  }

  /** The clock now. */
  now(): ClockSample {
    const mono = this.source.monoNs();
    const wall = this.source.wallNs();
    const bootNs = mono - this.bootMono;
    const slewed = this.slewed(mono);
    return { ns: wall + this.offset + slewed, ticks: (bootNs * this.hz) / NS_PER_S, freq: this.hz, bootNs };
  }

  /** The part of a slew applied by `mono`; a finished slew is folded into the offset. */
  private slewed(mono: bigint): bigint {
    const s = this.slew;
    if (s === undefined) return 0n;
    const elapsed = mono - s.startMono;
    if (elapsed >= s.periodNs) {
      this.offset += s.delta;
      this.slew = undefined;
      return 0n;
    }
    return elapsed <= 0n ? 0n : (s.delta * elapsed) / s.periodNs;
  }

  /** Sets the time to `ns` since the epoch (a step; any slew in progress is dropped). */
  set(ns: bigint): void {
    this.slew = undefined;
    this.offset = ns - this.source.wallNs();
  }

  /** Moves the clock by `delta` ns spread evenly over `periodS` seconds (at once when ≤ 0). */
  adjust(delta: bigint, periodS: number): void {
    const mono = this.source.monoNs();
    const applied = this.slewed(mono);
    if (this.slew !== undefined) {
      // a new adjustment replaces an unfinished one: keep what it applied so far
      this.offset += applied;
      this.slew = undefined;
    }
    if (periodS <= 0) this.offset += delta;
    else this.slew = { startMono: mono, delta, periodNs: BigInt(periodS) * NS_PER_S };
  }

  /** Sets the tick frequency (Hz, > 0). */
  setFreq(hz: bigint): void {
    if (hz <= 0n) throw badTimeCtl('frequency must be positive');
    this.hz = hz;
  }

  /** How far the clock is from its source's wall clock now, in ns. */
  get skew(): bigint {
    const slewed = this.slewed(this.source.monoNs());
    return this.offset + slewed;
  }
}

/**
 * A write to `time` (cons(3)): decimal seconds since the epoch, > 0, set the clock.
 * Throws "bad time control: ..." (EINVAL) for anything else.
 */
export function writeTime(clock: Clock, data: Buffer | string): void {
  const s = (typeof data === 'string' ? data : data.toString('latin1')).trim();
  if (!/^[0-9]{1,15}$/.test(s)) throw badTimeCtl(`want decimal seconds, got ${JSON.stringify(s.slice(0, 40))}`);
  const sec = BigInt(s);
  if (sec <= 0n) throw badTimeCtl('seconds must be positive');
  clock.set(sec * NS_PER_S);
}

/**
 * A write to `bintime` (cons(3)), big-endian after a letter:
 * `n` + 8 bytes: set ns since the epoch; `d` + 8 + 4 bytes: move by delta ns over period
 * seconds; `f` + 8 bytes: set the tick frequency. Throws "bad time control: ..." (EINVAL).
 */
export function writeBintime(clock: Clock, data: Buffer): void {
  if (data.length === 0) throw badTimeCtl('empty write');
  const op = String.fromCharCode(data[0]!);
  const p = data.subarray(1);
  switch (op) {
    case 'n': {
      if (p.length < 8) throw badTimeCtl('n wants 8 bytes');
      const ns = p.readBigInt64BE(0);
      if (ns <= 0n) throw badTimeCtl('time must be positive');
      clock.set(ns);
      return;
    }
    case 'd': {
      if (p.length < 12) throw badTimeCtl('d wants 8 + 4 bytes');
      clock.adjust(p.readBigInt64BE(0), p.readInt32BE(8));
      return;
    }
    case 'f': {
      if (p.length < 8) throw badTimeCtl('f wants 8 bytes');
      clock.setFreq(p.readBigInt64BE(0));
      return;
    }
    default:
      throw badTimeCtl(`unknown op ${JSON.stringify(op)}`);
  }
}

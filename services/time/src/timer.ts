/**
 * Timers a read blocks on (timerfd(2) in spirit, served as files): a timer is armed with a
 * deadline on the monotonic clock, once or every period; a read of its `wait` file returns the
 * moment it fired and how many times since the last read, blocking until then. A timer fires
 * within about a millisecond of its deadline, never before it: the event loop's timer wakes it
 * up to 2 ms early and the rest is waited out in setImmediate turns.
 */
import { numField, NUMSIZE, VLNUMSIZE, type Clock } from '@prose/clock';
import { Errno, NinepError } from '@prose/protocol';
import { Waiters } from '@prose/server';

/** Length of a fire record: three 64-bit fields and one 32-bit field, cons(3) style. */
export const FIRE_LEN = 3 * VLNUMSIZE + NUMSIZE;
/** Shortest period of a periodic timer. */
export const MIN_PERIOD_NS = 1_000_000n;

/** How early the event loop's timer is asked to wake, to be finished off by setImmediate. */
const SPIN_NS = 2_000_000n;
const NS_PER_MS = 1_000_000n;
const MAX_DELAY_MS = 2 ** 31 - 1;
const MAX_COUNT = 2 ** 31 - 1;

/** One firing, as a read of `wait` returns it. */
export interface Fire {
  /** The deadline that passed (monotonic ns). */
  deadline: bigint;
  /** When it was seen to pass (monotonic ns). */
  mono: bigint;
  /** The same moment on the wall clock (ns since the epoch). */
  wall: bigint;
  /** Expirations since the last read (more than 1 when a periodic timer was not read in time). */
  count: number;
}

/** The 78-byte text of a fire record: deadline, fired (monotonic), fired (wall), count. */
export function formatFire(f: Fire): string {
  return numField(f.deadline, VLNUMSIZE) + numField(f.mono, VLNUMSIZE) + numField(f.wall, VLNUMSIZE) + numField(f.count, NUMSIZE);
}

/** A fire record parsed back. */
export function parseFire(text: string): Fire {
  const w = text.trim().split(/ +/);
  if (text.length !== FIRE_LEN || w.length !== 4) throw new RangeError(`fire record: ${JSON.stringify(text)}`);
  return { deadline: BigInt(w[0]!), mono: BigInt(w[1]!), wall: BigInt(w[2]!), count: Number(w[3]) };
}

export class Timer {
  private readonly clock: Clock;
  private deadline: bigint | undefined = undefined;
  private period = 0n;
  private pending = 0;
  private last: Omit<Fire, 'count'> | undefined = undefined;
  private timeout: NodeJS.Timeout | undefined = undefined;
  private immediate: NodeJS.Immediate | undefined = undefined;
  private closed = false;
  private readonly waiters = new Waiters<void>();

  /** A disarmed timer on `clock`'s monotonic clock (`clock.monotonic()`). */
  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Reads blocked now. */
  get waiting(): number {
    return this.waiters.size;
  }

  get armed(): boolean {
    return this.deadline !== undefined;
  }

  /**
   * Arms the timer for `deadline` (monotonic ns; a past one fires at once), then every `period`
   * ns when given (≥ MIN_PERIOD_NS). Replaces an earlier arming; expirations not yet read stay.
   */
  arm(deadline: bigint, period = 0n): void {
    if (this.closed) throw NinepError.errno(Errno.EPIPE, 'timer closed');
    if (period !== 0n && period < MIN_PERIOD_NS) throw new RangeError('period too short');
    this.deadline = deadline;
    this.period = period;
    this.schedule();
  }

  /** Disarms the timer and drops expirations not read; blocked reads fail "timer cancelled". */
  cancel(): void {
    this.deadline = undefined;
    this.pending = 0;
    this.unschedule();
    this.waiters.failAll(new NinepError('timer cancelled', Errno.ECANCELED));
  }

  /**
   * The next fire: at once when the timer has fired since the last read, else when it fires;
   * "timer not armed" (EINVAL) when it has not fired and will not. Rejects with the signal's
   * reason when `signal` fires (a flushed read).
   */
  wait(signal?: AbortSignal): Fire | Promise<Fire> {
    if (this.pending > 0) return this.take();
    if (this.closed) throw NinepError.errno(Errno.EPIPE, 'timer closed');
    if (this.deadline === undefined) throw new NinepError('timer not armed', Errno.EINVAL);
    return this.waiters.wait(signal).then(() => this.wait(signal));
  }

  /** One line: `armed <deadline> period <ns> pending <n>` or `idle pending <n>`. */
  status(): string {
    const p = `pending ${this.pending}`;
    return this.deadline === undefined ? `idle ${p}\n` : `armed ${this.deadline} period ${this.period} ${p}\n`;
  }

  /** The timer's files are gone: disarm; blocked reads fail "timer closed". */
  close(): void {
    this.closed = true;
    this.deadline = undefined;
    this.unschedule();
    this.waiters.failAll(NinepError.errno(Errno.EPIPE, 'timer closed'));
  }

  private take(): Fire {
    const f = { ...this.last!, count: this.pending };
    this.pending = 0;
    return f;
  }

  private unschedule(): void {
    if (this.timeout !== undefined) clearTimeout(this.timeout);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timeout = this.immediate = undefined;
  }

  private schedule(): void {
    this.unschedule();
    if (this.deadline === undefined) return;
    const left = this.deadline - this.clock.monotonic();
    if (left <= 0n) return this.fire();
    if (left > SPIN_NS) {
      const ms = Number((left - SPIN_NS) / NS_PER_MS);
      this.timeout = setTimeout(() => this.schedule(), Math.min(ms, MAX_DELAY_MS));
    } else {
      this.immediate = setImmediate(() => this.schedule());
    }
  }

  private fire(): void {
    const mono = this.clock.monotonic();
    const wall = this.clock.now().ns;
    let due = this.deadline!;
    let n = 1n;
    if (this.period > 0n) {
      const missed = (mono - due) / this.period;
      due += missed * this.period;
      n += missed;
      this.deadline = due + this.period;
    } else {
      this.deadline = undefined;
    }
    this.pending = Math.min(MAX_COUNT, this.pending + Number(n));
    this.last = { deadline: due, mono, wall };
    this.waiters.wake();
    this.schedule();
  }
}

/**
 * The time tree: the host's clocks in the cons(3) formats and more, and a clone directory of
 * timers.
 *
 *   /time             100 bytes: seconds, ns since the epoch, ticks, tick frequency, ns since boot
 *   /bintime          32 bytes big-endian, whatever the offset: ns, ticks, frequency, ns since boot
 *   /nsec             ns since the epoch (the wall clock), one 22-byte field
 *   /monotonic        ns since the service started, one 22-byte field; never goes back
 *   /wall             the wall clock as RFC 3339 UTC with nanoseconds, and a newline
 *   /timer/clone      open: a new timer N; the fid becomes timer/N/ctl (reads "N")
 *   /timer/N/ctl      write: at <ns> | wall <ns> | in <duration> | every <duration> | cancel
 *   /timer/N/wait     read: blocks until the timer fires; a 78-byte fire record
 *   /timer/N/status   armed <deadline> period <ns> pending <n> | idle pending <n>
 *
 * "Boot" is when the service started; `monotonic`, the ticks and timer deadlines count from it.
 */
import {
  BINTIME_LEN, Clock, TIME_LEN, VLNUMSIZE, formatTime, formatWall, numField, readBintime, type TimeSource,
} from '@prose/clock';
import { Errno, NinepError } from '@prose/protocol';
import {
  CloneDir, Tree, ctlError, dir, file, instanceCtl, type Instance, type Node,
} from '@prose/server';
import { MAX_NS, parseDuration, parseNs } from './duration.js';
import { FIRE_LEN, MIN_PERIOD_NS, Timer, formatFire } from './timer.js';

export interface TimeFsOptions {
  /** Most timers at once (default 1024); one more clone open fails with EAGAIN. */
  maxTimers?: number;
  /** Owner of the files (default "prose"). */
  owner?: string;
  /** Where time comes from (default the host). */
  time?: TimeSource;
}

export interface TimeFs {
  tree: Tree;
  clock: Clock;
  timers: CloneDir<Timer>;
  /** Disarms every timer (service shutdown). */
  close(): void;
}

function ns(words: string[], s: string): bigint {
  const v = parseNs(s);
  if (v === undefined) throw ctlError(`bad nanoseconds ${JSON.stringify(s)}`, words.join(' '));
  return v;
}

function duration(words: string[], s: string): bigint {
  const v = parseDuration(s);
  if (v === undefined) throw ctlError(`bad duration ${JSON.stringify(s)}`, words.join(' '));
  return v;
}

/** `base + d`, kept at MAX_NS. */
function later(base: bigint, d: bigint): bigint {
  const v = base + d;
  return v > MAX_NS ? MAX_NS : v;
}

/** Builds the tree. See the module comment for the layout and README.md for the messages. */
export function buildTimeFs(opts: TimeFsOptions = {}): TimeFs {
  const owner = opts.owner ?? 'prose';
  const maxTimers = opts.maxTimers ?? 1024;
  const clock = new Clock(opts.time);

  const timerFiles = (inst: Instance<Timer>): Node[] => {
    const t = inst.state;
    return [
      instanceCtl(inst, [
        { name: 'at', args: 1, run: ([a], _c, w) => t.arm(ns(w, a!)) },
        {
          name: 'wall', args: 1,
          run: ([a], _c, w) => {
            const target = ns(w, a!);
            const now = clock.now();
            t.arm(target > now.ns ? later(now.bootNs, target - now.ns) : now.bootNs);
          },
        },
        { name: 'in', args: 1, run: ([a], _c, w) => t.arm(later(clock.monotonic(), duration(w, a!))) },
        {
          name: 'every', args: 1,
          run: ([a], _c, w) => {
            const p = duration(w, a!);
            if (p < MIN_PERIOD_NS) throw ctlError('period under 1ms', w.join(' '));
            t.arm(later(clock.monotonic(), p), p);
          },
        },
        { name: 'cancel', args: 0, run: () => t.cancel() },
      ], { uid: owner }),
      file('wait', {
        read: (_h, _o, count, req) => {
          const f = t.wait(req.signal);
          const cut = (x: Parameters<typeof formatFire>[0]) => Buffer.from(formatFire(x)).subarray(0, count);
          return f instanceof Promise ? f.then(cut) : cut(f);
        },
        length: () => FIRE_LEN,
      }, { uid: owner }),
      file('status', { content: () => t.status() }, { uid: owner }),
    ];
  };

  const timers: CloneDir<Timer> = new CloneDir<Timer>('timer', {
    uid: owner,
    instance: () => {
      if (timers.instances.size >= maxTimers) throw new NinepError(`too many timers (${maxTimers})`, Errno.EAGAIN);
      return new Timer(clock);
    },
    files: timerFiles,
    close: (inst) => inst.state.close(),
  });

  const root = dir('/', [
    file('time', { content: () => formatTime(clock.now()), length: () => TIME_LEN }, { uid: owner }),
    file('bintime', { read: (_h, _o, count) => readBintime(clock.now(), count), length: () => BINTIME_LEN }, { uid: owner }),
    file('nsec', { content: () => numField(clock.now().ns, VLNUMSIZE), length: () => VLNUMSIZE }, { uid: owner }),
    file('monotonic', { content: () => numField(clock.monotonic(), VLNUMSIZE), length: () => VLNUMSIZE }, { uid: owner }),
    file('wall', { content: () => formatWall(clock.now().ns) + '\n' }, { uid: owner }),
    timers,
  ], { uid: owner });

  return {
    tree: new Tree(root),
    clock,
    timers,
    close: () => {
      for (const inst of timers.instances.values()) inst.state.close();
    },
  };
}

/**
 * Polling the event loop before it blocks: for a 9P server whose clients run on other CPUs.
 *
 * A client on another CPU sends its next request a few microseconds after a reply, but by then
 * the server's event loop has gone to sleep in epoll_wait and must be woken; on a VM whose idle
 * vCPUs halt, that wake-up costs the client an interrupt to a halted vCPU, 20-35 µs on the
 * 2-vCPU machines this project is measured on, several times the exchange itself. With
 * `pollLoopBeforeBlocking(maxUs)` the loop first polls its own epoll descriptor for a window of
 * up to `maxUs`, yielding the CPU between polls, and blocks only when that finds nothing. The
 * window adapts as KVM's halt polling does (native/prose_shm.cc): a loop woken within `maxUs`
 * of going to sleep doubles it, a loop that slept longer halves it, to nothing, so a server
 * whose requests come seldom polls for nothing after two or three of them, and an idle one
 * costs no CPU. The price is CPU while a conversation lasts: the loop polls where it would have
 * slept (up to a core per busy loop while its peers keep it talking).
 *
 * Never on one CPU: a thread that can only run on one CPU has no peer that could answer while
 * it polls (its yields would only hand the CPU over), so it is left as it is.
 */
import { threadCpus } from './affinity.js';
import { loadAddon, type Addon } from './native.js';

export interface LoopPollStats {
  /** The current window (µs). */
  windowUs: number;
  /** Polls made, polls that found I/O ready, and times the loop went on to block. */
  polls: number;
  found: number;
  blocks: number;
}

export type LoopPollResult = { on: true } | { on: false; why: string };

/**
 * Polls this thread's event loop for up to `maxUs` (an integer, 0 to 1,000,000) before it
 * blocks; 0 stops. Says whether it is on, and why not.
 */
export function pollLoopBeforeBlocking(maxUs: number): LoopPollResult {
  if (!Number.isInteger(maxUs) || maxUs < 0 || maxUs > 1_000_000) throw new RangeError(`loop polling: want a whole number of µs from 0 to 1000000, got ${maxUs}`);
  const loopPoll = addonMethod('loopPoll');
  if (typeof loopPoll === 'string') return { on: false, why: loopPoll };
  if (maxUs > 0 && threadCpus().length <= 1) {
    loopPoll(0);
    return { on: false, why: 'this thread can run on one CPU only: no peer could answer while it polled' };
  }
  loopPoll(maxUs);
  return maxUs > 0 ? { on: true } : { on: false, why: 'turned off (0 µs)' };
}

/** This thread's loop polling so far, or undefined where it never started. */
export function loopPollStats(): LoopPollStats | undefined {
  const loopPoll = addonMethod('loopPoll');
  if (typeof loopPoll === 'string') return undefined;
  const [windowUs, polls, found, blocks] = loopPoll(-1);
  return polls === 0 && blocks === 0 && windowUs === 0 ? undefined : { windowUs, polls, found, blocks };
}

/**
 * Keeps (`true`) or drops (`false`) the idle-time metric of this thread's event loop, and says
 * whether it is kept now. Node has libuv time every sleep of the loop (what
 * `performance.eventLoopUtilization()` reports), and a loop with that metric makes one more
 * system call, a zero-timeout epoll_wait, at every turn that goes to sleep. Peers on one CPU
 * sleep at every message: two such calls per round trip. Dropped, the loop reads as never
 * idle (`eventLoopUtilization()` says 1) until it is kept again. A loop that polls before it
 * blocks keeps it (the polling window is judged on the sleeps it measures; a loop that starts
 * polling takes it back), and so does one where the addon is missing or libuv is not one whose
 * flag is known: the answer then says why.
 */
export function loopIdleMetric(keep: boolean): { kept: boolean; why?: string } {
  const metric = addonMethod('loopIdleMetric');
  if (typeof metric === 'string') return { kept: true, why: metric };
  const r = metric(keep ? 1 : 0);
  if (r < 0) return { kept: true, why: `libuv ${process.versions.uv} is not one whose idle-time flag is known (1.39 to 1.x)` };
  if (r === 2) return { kept: true, why: 'the loop polls before it blocks (pollLoopBeforeBlocking), and its window is judged on the metric' };
  return { kept: r === 1 };
}

/** One of the addon's loop calls, bound to it, or why there is none. */
function addonMethod<K extends 'loopPoll' | 'loopIdleMetric'>(name: K): NonNullable<Addon[K]> | string {
  let addon: Addon;
  try {
    addon = loadAddon();
  } catch (e) {
    return (e as Error).message;
  }
  const f = addon[name];
  if (f === undefined) return `the shm addon predates ${name}; rebuild it with \`npm run build:native -w @prose/shm\``;
  return f.bind(addon) as NonNullable<Addon[K]>;
}

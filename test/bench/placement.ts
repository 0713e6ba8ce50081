/**
 * CPU placement for benchmarks. On 2-vCPU VMs a wake-up on the other vCPU costs tens of µs, so
 * the default pins the driver and every server it starts to one CPU with taskset; "unpinned"
 * leaves both to the scheduler. The placement is reported with every figure.
 *
 * "unpinned-idle-poll" is unpinned with idle CPUs polling instead of halting: for as long as
 * the placement lasts the driver holds a CPU latency request of 0 µs open on
 * /dev/cpu_dma_latency (PM QoS; what tuned's latency-performance profile does), so the cpuidle
 * governor keeps idle vCPUs in their polling state. The VMs these suites run on halt an idle
 * vCPU at once (guest halt polling off), and a wake-up sent to a halted vCPU costs the sender
 * 20-35 µs; that path, not either server, is most of an unpinned round trip (see core.ts). The
 * request is the kernel's to drop when the file is closed, by `leavePlacement` or by the
 * process's exit. It needs write access to the device (root): without it the placement is
 * skipped, with the reason. It is never a default: while it lasts every idle CPU of the machine
 * spins, which is the point of the measurement and nothing to do to a machine unasked.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

export const PLACEMENTS = ['same-cpu', 'unpinned', 'unpinned-idle-poll'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** The PM QoS device through which a process asks for a CPU wake-up latency bound. */
export const CPU_LATENCY_DEVICE = '/dev/cpu_dma_latency';

/** The open latency request of the current placement, if it is unpinned-idle-poll. */
let latencyFd: number | undefined;

/** Why the idle-poll placement cannot be had here, or undefined when it can. */
export function idlePollUnavailable(): string | undefined {
  try {
    fs.accessSync(CPU_LATENCY_DEVICE, fs.constants.W_OK);
    return undefined;
  } catch (e) {
    return `${CPU_LATENCY_DEVICE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** The CPU latency bound in force now (µs; the kernel's default is 2,000,000,000), or undefined where it cannot be read. */
export function cpuLatencyBoundUs(): number | undefined {
  try {
    const b = Buffer.alloc(4);
    const fd = fs.openSync(CPU_LATENCY_DEVICE, 'r');
    try {
      return fs.readSync(fd, b, 0, 4, null) === 4 ? b.readInt32LE(0) : undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Puts the driver in placement `p` (pinned, or not) and, for unpinned-idle-poll, holds the
 * 0 µs latency request; a request held for an earlier placement is dropped first. Returns the
 * CPU set for the peers the suite starts (undefined: unpinned), or `{ skip }` with the reason
 * when `p` cannot be had here.
 */
export function enterPlacement(p: Placement): { cpus: string | undefined } | { skip: string } {
  dropLatencyRequest();
  if (p === 'unpinned-idle-poll') {
    try {
      const fd = fs.openSync(CPU_LATENCY_DEVICE, 'w');
      const zero = Buffer.alloc(4); // a binary s32: 0 µs
      if (fs.writeSync(fd, zero) !== 4) {
        fs.closeSync(fd);
        return { skip: `${CPU_LATENCY_DEVICE}: short write` };
      }
      latencyFd = fd;
    } catch (e) {
      return { skip: `${CPU_LATENCY_DEVICE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  }
  const cpus = cpusFor(p);
  pinSelf(cpus ?? allCpus());
  return { cpus };
}

/**
 * Runs `body` in each of `placements` in turn (see `enterPlacement`): one that cannot be had
 * here is skipped, with the reason logged; after the last, and also when `body` throws, the
 * placement is left, so an idle-poll latency request never outlives the suite.
 */
export async function inPlacements(placements: readonly Placement[], log: (line: string) => void, body: (placement: Placement, cpus: string | undefined) => Promise<void>): Promise<void> {
  try {
    for (const placement of placements) {
      const at = enterPlacement(placement);
      if ('skip' in at) log(`${placement}: skipped (${at.skip})`);
      else await body(placement, at.cpus);
    }
  } finally {
    leavePlacement();
  }
}

/** Ends the last placement: the driver may run on every CPU again and no latency request is held. */
export function leavePlacement(): void {
  dropLatencyRequest();
  pinSelf(allCpus());
}

function dropLatencyRequest(): void {
  if (latencyFd === undefined) return;
  const fd = latencyFd;
  latencyFd = undefined;
  fs.closeSync(fd);
}

/**
 * The placements a suite runs unless told: same-cpu and unpinned. unpinned-idle-poll only when
 * asked for (`--placement`): it changes how the whole machine idles while it lasts.
 */
export function defaultPlacements(): Placement[] {
  return ['same-cpu', 'unpinned'];
}

let tasksetOk: boolean | undefined;

/** True when taskset can be used here. */
export function haveTaskset(): boolean {
  if (tasksetOk === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetOk = true;
    } catch {
      tasksetOk = false;
    }
  }
  return tasksetOk;
}

/** The CPUs this process may run on now. */
export function currentAffinity(): string {
  if (!haveTaskset()) return 'unknown';
  return execFileSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' }).split(':').pop()!.trim();
}

/** Pins this process (all its threads) to `cpus` ("0", "0-1"). */
export function pinSelf(cpus: string): void {
  if (!haveTaskset()) return;
  execFileSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { stdio: 'ignore' });
}

/** Spawns a command on `cpus` (or unpinned when undefined or taskset is missing). */
export function spawnPinned(cpus: string | undefined, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  if (cpus !== undefined && haveTaskset()) return spawn('taskset', ['-c', cpus, cmd, ...args], opts);
  return spawn(cmd, args, opts);
}

/** The CPU set a placement means for both ends ("0" for same-cpu, undefined for unpinned). */
export function cpusFor(p: Placement): string | undefined {
  return p === 'same-cpu' ? '0' : undefined;
}

/** All CPUs of the machine as a taskset list, to undo a pin. */
export function allCpus(): string {
  const n = os.cpus().length;
  return n > 1 ? `0-${n - 1}` : '0';
}

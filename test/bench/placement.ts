/**
 * CPU placement for benchmarks. On 2-vCPU VMs a wake-up on the other vCPU costs tens of µs, so
 * the default pins the driver and every server it starts to one CPU with taskset; "unpinned"
 * leaves both to the scheduler. The placement is reported with every figure.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as os from 'node:os';

export type Placement = 'same-cpu' | 'unpinned';

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

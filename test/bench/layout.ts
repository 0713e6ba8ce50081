/**
 * Where the kernel and V8 put a Node process's hot code, as offsets modulo 64 MiB: on the 2-vCPU
 * VMs the bench figures come from, this sets which of two speed levels a Node process runs at,
 * for its whole life.
 *
 * What was measured (node 20 from Debian's packages: a non-PIE binary, its image always at
 * 0x400000, so only what is mapped below the random mmap base moves between runs: the shared
 * libraries, and V8's code range, which it places some 100–140 MiB below libc and into whose
 * top end it copies the embedded builtins, "short builtin calls"):
 *
 * - One process (the channel suite's shm-thread-notify case, both ends in one process, serial
 *   64 B on one CPU): 100 fresh processes ran at 5.4–5.7 µs or at 6.5–7.3 µs, and the slow ones
 *   were exactly those whose builtins copy began 62.25 MiB into a 64 MiB period (the code range
 *   ending on a 64 MiB boundary, 48 of 48; the fast ones had it at 30, 37.5, 38, 46, 53.5, 54 or
 *   61.8). Seen through libc instead (which the code range follows): slow exactly when libc began
 *   outside 11–40 MiB of the period. A 32 MiB library preloaded in front of libc moved libc and
 *   the code range 32 MiB against the libraries above, and the rule held (39 of 40 by the
 *   builtins, 38 of 40 by libc). With `--no-short-builtin-calls` (builtins run from the binary)
 *   the two levels remain, 5.3–5.6 and 6.0–6.5 µs, then best told by libc's offset (34 of 40).
 * - A pair (our client and our null server over TCP): a round trip was slow (11.1–11.7 µs
 *   against 9.6–10.2) in 8 of 10 pairs where both processes had libc outside the window and in
 *   2 of 30 others, and in two bench runs since also when both were inside it and within 3 MiB
 *   of each other; with ASLR off (`setarch -R`), every process laid out alike, a lone process is
 *   slow and a TCP pair fast (14 of 14). The client against diod (C) ran at 10.4–10.5 µs
 *   whatever its own layout.
 *
 * What the 64 MiB is: glibc's per-thread malloc arenas, reserved 64 MiB-aligned (about eight in
 * a Node process). In the slow processes V8's code range sat right under one of them. With
 * `MALLOC_ARENA_MAX=1` (one arena, no such reservations) 28 of 28 single processes ran fast
 * (5.5–5.9 µs), 30 of 32 TCP pairs (10.0–10.5 µs; two at 11.8 and 12.5) and 40 of 43 pairs over
 * shared memory between processes (6.1–6.4 µs; three at 7.3–7.5). Which structure of the core the collision is in
 * could not be seen: the VMs expose no performance counters. The mesh's launchers and the bench
 * therefore start every Node process with MESH_ENV (@prose/service), and so does the bench for
 * diod, which measured the same with and without it.
 *
 * Without it, one Node process is one draw of this lottery, and a measurement that keeps one
 * process for all its repetitions measured one draw, however many it made.
 */
import { readFileSync } from 'node:fs';

const PERIOD = 64n << 20n;

/** Offsets modulo 64 MiB, in MiB (one decimal), of a process's libc and of V8's copy of its builtins. */
export interface Layout {
  libc?: number;
  /** V8's copy of the embedded builtins (absent with --no-short-builtin-calls). */
  builtins?: number;
}

const startOf = (line: string) => BigInt(`0x${line.slice(0, line.indexOf('-'))}`);

function slot(line: string | undefined): number | undefined {
  return line === undefined ? undefined : Math.round(Number(startOf(line) % PERIOD) / 2 ** 20 * 10) / 10;
}

/** What /proc/<pid>/maps says of `pid`'s layout; empty when it cannot be read. */
export function layoutOf(pid: number | 'self'): Layout {
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  } catch {
    return {};
  }
  // The builtins copy: an executable mapping of the binary itself, over 1 GiB from its image.
  const exe = lines.find((l) => / r-xp /.test(l))?.split(/\s+/).slice(5).join(' ');
  const exeCode = exe ? lines.filter((l) => / r-xp /.test(l) && l.endsWith(` ${exe}`)) : [];
  const image = exeCode.length > 0 ? startOf(exeCode[0]!) : 0n;
  const builtins = exeCode.find((l) => startOf(l) - image > 1n << 30n);
  return { libc: slot(lines.find((l) => /\/libc(-[\d.]+)?\.so/.test(l))), builtins: slot(builtins) };
}

/** A layout as a log line shows it: "libc 24.1 builtins 38". */
export function formatLayout(l: Layout): string {
  return `libc ${l.libc ?? '?'} builtins ${l.builtins ?? '-'}`;
}

/**
 * Where the kernel put a process's C library, as an offset modulo 64 MiB: on the 2-vCPU VMs
 * the bench figures come from, this offset sets which of two speed levels a Node process runs
 * at, for its whole life.
 *
 * What was measured (node 20 from Debian's packages: a non-PIE binary, its text always at
 * 0xc00000, so only the shared libraries, placed below a random mmap base, move between runs):
 * 100 fresh processes of the channel suite's shm-thread-notify case (both ends in one process),
 * serial 64 B on one CPU, ran at 5.4–5.7 µs when libc began 11–40 MiB into a 64 MiB period and
 * at 6.5–7.3 µs otherwise, without one exception. Preloading a 32 MiB library between the
 * libraries mapped first and libc moved libc 32 MiB against the others, and the fast window
 * followed libc (38 of 40 runs). For a pair of Node processes (our client and our null server
 * over TCP, 40 fresh pairs) a round trip was slow (11.2–11.7 µs against 9.6–10.2) in 8 of the
 * 10 pairs where both had libc outside the window, and in 2 of the 30 where one or both had it
 * inside; so for a pair it is the two layouts together, more than either: with ASLR off
 * (`setarch -R`), libc lands at 58.1 MiB in every process, a lone process is slow and a TCP
 * pair, laid out alike, fast (14 of 14). The client against diod (C) ran at 10.4–10.5 µs
 * whatever its own offset. Which
 * structure of the core this is (a 64 MiB period points at something indexed by virtual
 * address bits 21–25) could not be seen here: the VMs expose no performance counters.
 *
 * So one Node process is one draw of this lottery, and a measurement that keeps one process for
 * all its repetitions measured one draw, however many it made.
 */
import { readFileSync } from 'node:fs';

/** libc's start modulo 64 MiB, in MiB (one decimal), or undefined when it cannot be read. */
export function libcSlotMiB(pid: number | 'self'): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').find((l) => /\/libc(-[\d.]+)?\.so/.test(l));
    if (line === undefined) return undefined;
    const start = BigInt(`0x${line.slice(0, line.indexOf('-'))}`);
    return Math.round(Number(start % (64n << 20n)) / 2 ** 20 * 10) / 10;
  } catch {
    return undefined;
  }
}

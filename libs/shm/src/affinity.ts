/**
 * Which CPUs a thread may run on, to decide whether spinning can ever pay: two peers that can
 * only run on one and the same CPU must never spin (each spin costs the other a scheduler
 * slice, ~8 ms measured here).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** CPU numbers the calling thread may run on (from /proc/thread-self/status), or all CPUs. */
export function threadCpus(): number[] {
  try {
    const s = fs.readFileSync('/proc/thread-self/status', 'utf8');
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(s);
    if (m) return parseCpuList(m[1]!);
  } catch {
    // not Linux, or no procfs: fall through
  }
  return os.cpus().map((_, i) => i);
}

/** Parses "0-3,5,7-8". */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    for (let i = a; i <= b && out.length < 4096; i++) out.push(i);
  }
  return out;
}

/** True when the two CPU sets leave the peers no way to run at the same time. */
export function shareOneCpu(a: readonly number[], b: readonly number[]): boolean {
  const all = new Set([...a, ...b]);
  return all.size <= 1;
}

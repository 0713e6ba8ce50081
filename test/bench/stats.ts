/**
 * Figures and tables for the benchmark suites: percentiles of latency samples, the row format
 * every suite writes to bench-results/<suite>.json, and a plain-text table.
 */
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** One measured configuration. Extra fields (cpu_s, idle_cpu_pct, placement, …) are allowed. */
export interface Row {
  case: string;
  mode: string;
  payload: number;
  p50_us: number;
  p99_us: number;
  ops_per_s: number;
  [extra: string]: string | number;
}

/**
 * Writes a progress line to stderr with a plain write(2), not through `process.stderr`. That
 * is a Node Writable, whose code the 9P client's sockets run too: the first line written to it
 * after a measured run handed that code a stream of another shape, V8 deoptimized it, and the
 * next run paid for the recompilation (0.7-0.8 µs more client CPU a round trip for 10,000
 * serial round trips: in the core suite, whichever case was measured second in a rep).
 */
export function logLine(line: string): void {
  const b = Buffer.from(line + '\n');
  try {
    for (let off = 0; off < b.length; ) off += fs.writeSync(2, b, off);
  } catch {
    process.stderr.write(b); // a non-blocking stderr that is full (EAGAIN): queue the line
  }
}

/** Latency percentiles of per-operation samples (ns) and the rate over the wall time. */
export function summarize(samplesNs: Float64Array | number[], wallNs: number, ops = samplesNs.length): { p50_us: number; p99_us: number; ops_per_s: number } {
  const s = Float64Array.from(samplesNs).sort();
  const pick = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0);
  return {
    p50_us: round(pick(0.5) / 1000),
    p99_us: round(pick(0.99) / 1000),
    ops_per_s: Math.round((ops * 1e9) / wallNs),
  };
}

/**
 * CPU time (ns, user + system) that process `pid` and all its threads have used so far, from
 * /proc/<pid>/task/<tid>/schedstat (nanosecond resolution, unlike the 10 ms ticks of /proc/<pid>/stat).
 * Undefined where /proc is not available or the process is gone.
 */
export function processCpuNs(pid: number | 'self'): number | undefined {
  try {
    const dir = `/proc/${pid}/task`;
    let total = 0;
    for (const t of fs.readdirSync(dir)) {
      try {
        total += Number(fs.readFileSync(`${dir}/${t}/schedstat`, 'utf8').split(' ', 1)[0]);
      } catch {
        // a thread that ended between readdir and read
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A ratio as the suites print it: two decimals. A target is judged on the exact ratio, never on this. */
export function shownRatio(x: number): number {
  return round(x, 2);
}

/** Human size: 64 B, 1 KiB, 64 KiB, 1 MiB. */
export function sizeLabel(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

/** A fixed-width text table of rows, columns in the given order. */
export function table(rows: Row[], columns: string[] = ['case', 'mode', 'placement', 'payload', 'p50_us', 'p99_us', 'ops_per_s', 'p50_min_us', 'p50_max_us', 'client_cpu_us', 'server_cpu_us']): string {
  const cols = columns.filter((c) => rows.some((r) => r[c] !== undefined));
  const cell = (r: Row, c: string) => (c === 'payload' ? sizeLabel(r.payload) : String(r[c] ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (vals: string[]) => vals.map((v, i) => (i < 2 || cols[i] === 'placement' ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r, c))))].join('\n');
}

/** Writes bench-results/<suite>.json = {"suite", "rows", ...meta}. Returns the path. */
export async function writeResults(suite: string, rows: Row[], meta: Record<string, unknown> = {}, dir = 'bench-results'): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${suite}.json`);
  await fsp.writeFile(file, JSON.stringify({ suite, ...meta, rows }, null, 2) + '\n');
  return file;
}

/**
 * Every row of case `a` with its counterpart of case `b` (same placement, mode and payload):
 * what the suites' "a over b" ratio notes are made of.
 */
export function pairRows(rows: Row[], a: string, b: string): Array<[Row, Row]> {
  const out: Array<[Row, Row]> = [];
  for (const r of rows.filter((x) => x.case === a)) {
    const o = rows.find((x) => x.case === b && x.mode === r.mode && x.payload === r.payload && x.placement === r.placement);
    if (o) out.push([r, o]);
  }
  return out;
}

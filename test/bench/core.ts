/**
 * Suite `core`: Twrite round trips to a null file, one at a time and with 16 outstanding, for
 * our client against our server (Unix socket and TCP) and against diod (TCP), next to a raw
 * length-prefixed Node exchange with no 9P (the floor for Node sockets). Every peer is a child
 * process; the driver and the peers share a CPU placement that is reported with each row.
 *
 * The floor is like for like: its request is a Twrite-sized frame (23-byte header + payload),
 * its reply an 11-byte frame (an Rwrite's size), never an echo of the payload; both of its ends
 * use our transport as the 9P ends do, its server lending big frames as the null 9P server
 * does (see raw-echo.ts and null-server.ts). What prose-tcp costs above it is 9P.
 *
 * Unpinned, a serial round trip here is 55-75 µs against 10-16 on one CPU, and each end is
 * charged 20-35 µs of CPU per round trip instead of 5-8 (per-thread /proc figures: all of it on
 * the main threads). The VMs these figures come from run with guest halt polling off
 * (haltpoll.guest_halt_poll_ns=0), so an idle vCPU halts at once and every wake-up across CPUs
 * is an interrupt to a halted vCPU, paid in the sender's time: unpinned figures measure the
 * scheduler's placement and that path more than either server (diod's threads land better,
 * 56-60 µs, in four of five of its processes; Node's echo floor and ours both 72-76). The
 * placement unpinned-idle-poll (see placement.ts) keeps idle vCPUs polling for its runs: there
 * the same serial round trips take 12.5-13.7 µs for all three (64 B: prose-tcp 13.1, diod 13.7,
 * raw-tcp 13.0), which is what the unpinned rows lose to the halted-vCPU wake-up.
 *
 * Our peers (the null 9P server and the raw floor's echo server) poll their event loops before
 * they sleep, as every service does by default (@prose/service `--busy-poll-us` 50; off on one
 * CPU, so the same-cpu rows are untouched): unpinned, a client's request then finds the server
 * awake and only the reply wakes a halted vCPU. That took the unpinned serial 64 B round trip
 * from 86-88 µs (ours and the raw floor alike; diod 86-87) to 30 µs (diod 86), 15 of 24
 * unpinned targets met before, 22 after (the two misses: pipelined16 p50 against the raw
 * floor, whose unpinned pipelined rows move by 2-3x from run to run).
 *
 * On one CPU, a serial round trip is 10-11 µs for all three (9.7-10.6 for ours since the
 * sockets are read and written by the process itself, @prose/transport's FdSocket). Ours used to run at one of two
 * levels (9.6-10.2 or 11.2-12.2 µs at 64 B; diod 10.4-10.7 every time), set for the life of the
 * two processes by where V8's code range landed against glibc's 64 MiB-aligned per-thread malloc
 * arenas (layout.ts has the measurements): both ends' CPU per round trip rose together (about
 * 6.0 → 7.0 µs for the client). Every process of a run now starts with MESH_ENV
 * (MALLOC_ARENA_MAX=1, see @prose/service), and 30 of 32 fresh pairs ran at the fast level; a
 * run of this suite had all five reps at 10.0-10.6 µs. A row is the median over reps, each a
 * fresh client process and fresh servers, so it is a median over independent draws.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { Client, type Fid } from '@prose/client';
import { L_O_WRONLY } from '@prose/protocol';
import { startNodePeer, type Peer } from '../support/child.js';
import { runClientProcess, serveClientProcess } from './client-process.js';
import { defaultPlacements, inPlacements, type Placement } from './placement.js';
import { formatLayout, layoutOf } from './layout.js';
import { RawClient } from './raw-echo.js';
import { median, pairRows, processCpuNs, round, shownRatio, summarize, type Row } from './stats.js';
import { startDiod, haveDiod, type Diod } from '../support/diod.js';

export const CORE_CASES = ['prose-unix', 'prose-tcp', 'diod-tcp', 'raw-tcp'] as const;
export type CoreCase = (typeof CORE_CASES)[number];

export interface CoreOptions {
  iterations?: number;
  /**
   * Round trips each case makes before anything is measured, over every payload, one at a time
   * and pipelined (default min(60000, 6 × iterations)); each measured run also follows a tenth
   * of `iterations` of its own configuration.
   */
  warmup?: number;
  /** Measured runs of each configuration; a row is their median (default 5). */
  reps?: number;
  payloads?: number[];
  placements?: Placement[];
  cases?: readonly CoreCase[];
  /** Outstanding requests in the pipelined mode. */
  depth?: number;
  log?: (line: string) => void;
}

/** A target of the suite: one round trip with `payload`. */
interface Target {
  roundTrip(payload: Buffer): Promise<unknown>;
  /** Largest payload one round trip carries (diod's msize caps its Twrite). */
  maxPayload: number;
  /** The peer process serving it (for its CPU time), when it is a child of ours. */
  pid?: number;
  close(): void;
}

/** Where the compiled bench scripts live (peers run as plain node on the built JS). */
export function distBench(): string {
  return __filename.endsWith('.js') ? __dirname : path.resolve(__dirname, '../../dist/test/bench');
}

async function nineTarget(addr: string, aname: string, pid: number | undefined): Promise<Target> {
  const c = await Client.connect(addr, { version: '9P2000.L' });
  const root = await c.attach({ aname, uname: 'root', nUname: 0 });
  const f: Fid = await root.walk('null');
  await f.lopen(L_O_WRONLY);
  return { roundTrip: (p) => f.write(0, p), maxPayload: c.maxIo, pid, close: () => c.close() };
}

async function rawTarget(addr: string, pid: number | undefined): Promise<Target> {
  const port = Number(addr.split('!').pop());
  const r = await RawClient.connect(port);
  return { roundTrip: (p) => r.roundTrip(p), maxPayload: Number.MAX_SAFE_INTEGER, pid, close: () => r.close() };
}

/** Runs `n` round trips with at most `depth` outstanding; returns per-op latencies and wall time. */
export async function measure(t: Target, payload: Buffer, n: number, depth: number): Promise<{ samples: Float64Array; wallNs: number }> {
  const samples = new Float64Array(n);
  const start = process.hrtime.bigint();
  if (depth <= 1) {
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await t.roundTrip(payload);
      samples[i] = Number(process.hrtime.bigint() - t0);
    }
  } else {
    let issued = 0;
    const lane = async () => {
      while (issued < n) {
        const i = issued++;
        const t0 = process.hrtime.bigint();
        await t.roundTrip(payload);
        samples[i] = Number(process.hrtime.bigint() - t0);
      }
    };
    await Promise.all(Array.from({ length: depth }, lane));
  }
  return { samples, wallNs: Number(process.hrtime.bigint() - start) };
}

interface Peers {
  prose?: Peer;
  raw?: Peer;
  diod?: Diod;
  unixPath: string;
  stop(): Promise<void>;
}

async function startPeers(cpus: string | undefined, cases: readonly CoreCase[]): Promise<Peers> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-bench-'));
  const unixPath = path.join(dir, 'null.sock');
  const peers: Peers = {
    unixPath,
    async stop() {
      await Promise.all([peers.prose?.stop(), peers.raw?.stop(), peers.diod?.stop()]);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
  try {
    if (cases.includes('prose-tcp') || cases.includes('prose-unix')) {
      peers.prose = await startNodePeer(cpus, path.join(distBench(), 'null-server.js'), ['tcp!127.0.0.1!0', `unix!${unixPath}`]);
    }
    if (cases.includes('raw-tcp')) peers.raw = await startNodePeer(cpus, path.join(distBench(), 'raw-echo.js'), []);
    if (cases.includes('diod-tcp')) {
      peers.diod = await startDiod({ prefix: cpus !== undefined ? ['taskset', '-c', cpus] : undefined, args: ['-e', '/dev'] });
    }
  } catch (e) {
    await peers.stop();
    throw e;
  }
  return peers;
}

/** Where one case's peer is, as a rep's client process is told. */
interface TargetSpec {
  case: CoreCase;
  addr: string;
  aname: string;
  pid?: number;
}

function targetSpec(c: CoreCase, peers: Peers): TargetSpec {
  switch (c) {
    case 'prose-unix': return { case: c, addr: `unix!${peers.unixPath}`, aname: '', pid: peers.prose!.proc.pid };
    case 'prose-tcp': return { case: c, addr: peers.prose!.addr, aname: '', pid: peers.prose!.proc.pid };
    case 'diod-tcp': return { case: c, addr: peers.diod!.addr, aname: '/dev', pid: peers.diod!.proc.pid };
    case 'raw-tcp': return { case: c, addr: peers.raw!.addr, aname: '', pid: peers.raw!.proc.pid };
  }
}

function connect(t: TargetSpec): Promise<Target> {
  return t.case === 'raw-tcp' ? rawTarget(t.addr, t.pid) : nineTarget(t.addr, t.aname, t.pid);
}

/** The two modes: one at a time, and `depth` outstanding. */
function modesOf(depth: number): ReadonlyArray<readonly [string, number]> {
  return [['serial', 1], [`pipelined${depth}`, depth]];
}

/** One measured run of one configuration. */
interface Run {
  p50_us: number;
  p99_us: number;
  ops_per_s: number;
  /** CPU time per round trip (µs) of the driver and of the peer process, when known. */
  client_cpu_us?: number;
  server_cpu_us?: number;
}

/** The row of a configuration measured several times: the median of each figure over the runs. */
function rowOf(c: CoreCase, mode: string, size: number, placement: Placement, runs: Run[], sent: number): Row {
  const med = (k: keyof Run, digits = 1) => {
    const xs = runs.map((r) => r[k]).filter((x): x is number => x !== undefined);
    return xs.length === runs.length ? round(median(xs), digits) : undefined;
  };
  const p50s = runs.map((r) => r.p50_us);
  const row: Row = {
    case: c, mode, payload: size, p50_us: med('p50_us')!, p99_us: med('p99_us')!, ops_per_s: Math.round(median(runs.map((r) => r.ops_per_s))),
    placement, runs: runs.length, p50_min_us: Math.min(...p50s), p50_max_us: Math.max(...p50s),
  };
  const cc = med('client_cpu_us', 2), sc = med('server_cpu_us', 2);
  if (cc !== undefined) row.client_cpu_us = cc;
  if (sc !== undefined) row.server_cpu_us = sc;
  if (sent !== size) row.payload_sent = sent;
  return row;
}

/**
 * Runs the suite and returns its rows (one per case × mode × payload × placement).
 *
 * Soundness: every case is connected before measuring starts, and the cases are interleaved: for
 * each repetition, payload and mode, every case is measured in turn (the order rotating between
 * repetitions), so a burst of load from elsewhere on the machine lands on all cases alike rather
 * than on whichever ran then. Each configuration is measured `reps` times, each time by a fresh
 * client process (`runRep`, as `core.js --rep`) against peers started afresh: a Node process
 * ran at one of two speed levels for life (see layout.ts; with MESH_ENV, which every process of
 * a run gets, nearly always the fast one), and a Node-to-Node round trip was slow mostly when
 * both ends drew the slow level, while diod's answers do not depend on the client's draw. While
 * the driver was the client of every rep, its one draw weighed on every prose and raw row of a
 * run and on none of diod's, so the reps of a run were not independent samples. Each rep's log
 * line gives the client's and the peers' layouts.
 * A row gives the median of the runs' p50, p99 and ops/s, the spread of the p50s (`p50_min_us`,
 * `p50_max_us`) and the CPU time per round trip of the client (`client_cpu_us`) and of the peer
 * (`server_cpu_us`), which is what the other load on a shared machine disturbs least. Before a
 * rep's first run, every case makes `warmup` round trips over all payloads and modes: a new Node
 * process (the client, a Node peer) runs its first seconds slower — JIT tiers, young-generation
 * resizing. A fresh null server, serial 64 B Twrites in blocks of 5,000: 51–55, 20–23, 17–20 µs,
 * then steady from about the 20,000th (15.5–17.6 µs); with 20,000 round trips of warm-up spread
 * over all payloads and modes, the first row measured (serial 64 B) still caught the end of it
 * in every rep, and was prose's worst ratio against diod. Each run then follows a tenth of
 * `iterations` of its own configuration (caches).
 */
export async function runCore(opts: CoreOptions = {}): Promise<Row[]> {
  const n = opts.iterations ?? 10000;
  const warmup = opts.warmup ?? Math.min(60000, 6 * n);
  const reps = Math.max(1, opts.reps ?? 5);
  const payloads = opts.payloads ?? [64, 1024, 8192, 65536];
  const placements = opts.placements ?? defaultPlacements();
  const depth = opts.depth ?? 16;
  const cases = (opts.cases ?? CORE_CASES).filter((c) => c !== 'diod-tcp' || haveDiod());
  const log = opts.log ?? (() => {});
  const rows: Row[] = [];
  await inPlacements(placements, log, async (placement, cpus) => {
    const runs = new Map<string, Run[]>();
    const maxPayload = new Map<CoreCase, number>();
    for (let rep = 0; rep < reps; rep++) {
      // Fresh peers and a fresh client process for every rep: a Node process runs at one of two
      // speed levels for life (see layout.ts), so a row is a median over `reps` independent
      // pairs of processes, not `reps` runs of one draw.
      const peers = await startPeers(cpus, cases);
      try {
        const plan: RepPlan = { rep, reps, placement, targets: cases.map((c) => targetSpec(c, peers)), payloads, depth, n, warmup };
        const got = await runClientProcess<RepResult>(cpus, path.join(distBench(), 'core.js'), '--rep', plan, log);
        for (const [c, max] of got.maxPayload) maxPayload.set(c, max);
        for (const r of got.runs) {
          const key = `${r.case} ${r.mode} ${r.size}`;
          runs.set(key, [...(runs.get(key) ?? []), r.run]);
        }
      } finally {
        await peers.stop();
      }
    }
    for (const c of cases) {
      const max = maxPayload.get(c)!;
      for (const size of payloads) {
        for (const [mode] of modesOf(depth)) rows.push(rowOf(c, mode, size, placement, runs.get(`${c} ${mode} ${size}`)!, Math.min(size, max)));
      }
    }
  });
  return rows;
}

/** One rep, as its client process runs it. */
interface RepPlan {
  rep: number;
  reps: number;
  placement: Placement;
  targets: TargetSpec[];
  payloads: number[];
  depth: number;
  /** Measured round trips per run. */
  n: number;
  /** Round trips of warm-up per case before the first run. */
  warmup: number;
}

interface RepResult {
  runs: Array<{ case: CoreCase; mode: string; size: number; run: Run }>;
  maxPayload: Array<[CoreCase, number]>;
}

/**
 * One rep in this process: connects to every target, warms each up over all payloads and modes,
 * then measures every configuration, the cases in turn (rotated by the rep number).
 */
export async function runRep(plan: RepPlan, log: (line: string) => void): Promise<RepResult> {
  const { rep, reps, placement, payloads, depth, n, warmup } = plan;
  const modes = modesOf(depth);
  const runWarmup = Math.ceil(n / 10);
  const cases = plan.targets.map((t) => t.case);
  const targets = new Map<CoreCase, Target>();
  const out: RepResult = { runs: [], maxPayload: [] };
  try {
    for (const t of plan.targets) targets.set(t.case, await connect(t));
    for (const [c, t] of targets) out.maxPayload.push([c, t.maxPayload]);
    const layouts = plan.targets.map((t) => `${t.case} ${t.pid !== undefined ? formatLayout(layoutOf(t.pid)) : '?'}`);
    log(`rep ${rep + 1}/${reps} ${placement}: client pid ${process.pid}; layouts, MiB mod 64 (layout.ts): client ${formatLayout(layoutOf('self'))}, ${layouts.join(', ')}`);
    const per = Math.ceil(warmup / (payloads.length * modes.length));
    for (const c of cases) {
      const t = targets.get(c)!;
      for (const size of payloads) {
        for (const [, d] of modes) await measure(t, Buffer.alloc(Math.min(size, t.maxPayload), 0x5a), per, d);
      }
    }
    for (const size of payloads) {
      for (const [mode, d] of modes) {
        for (let k = 0; k < cases.length; k++) {
          const c = cases[(k + rep) % cases.length]!;
          const t = targets.get(c)!;
          const payload = Buffer.alloc(Math.min(size, t.maxPayload), 0x5a);
          await measure(t, payload, runWarmup, d);
          const c0 = processCpuNs('self'), s0 = t.pid !== undefined ? processCpuNs(t.pid) : undefined;
          const { samples, wallNs } = await measure(t, payload, n, d);
          const c1 = processCpuNs('self'), s1 = t.pid !== undefined ? processCpuNs(t.pid) : undefined;
          const run: Run = summarize(samples, wallNs);
          if (c0 !== undefined && c1 !== undefined) run.client_cpu_us = (c1 - c0) / n / 1000;
          if (s0 !== undefined && s1 !== undefined) run.server_cpu_us = (s1 - s0) / n / 1000;
          out.runs.push({ case: c, mode, size, run });
          const cpu = run.client_cpu_us !== undefined ? `, cpu/op ${run.client_cpu_us.toFixed(2)} + ${run.server_cpu_us?.toFixed(2) ?? '?'} µs` : '';
          log(`${c} ${mode} ${size} ${placement} run ${rep + 1}/${reps}: p50 ${run.p50_us} µs, p99 ${run.p99_us} µs, ${run.ops_per_s} ops/s${cpu}`);
        }
      }
    }
  } finally {
    for (const t of targets.values()) t.close();
  }
  return out;
}

/** p50 and ops/s ratios of one case against another, per placement, mode and payload. */
export function ratios(rows: Row[], a: string, b: string): Array<{ placement: string; mode: string; payload: number; p50_ratio: number; ops_ratio: number }> {
  return pairRows(rows, a, b).map(([r, o]) => ({
    placement: String(r.placement), mode: r.mode, payload: r.payload,
    p50_ratio: r.p50_us / o.p50_us, ops_ratio: r.ops_per_s / o.ops_per_s,
  }));
}

/**
 * The targets, row by row: prose-tcp at least as fast as diod-tcp (p50 no higher, ops/s
 * no lower) and its p50 within 1.2× raw-tcp's, per placement, mode and payload, each marked met
 * or missed, with a count per placement.
 */
export function coreTargets(rows: Row[]): string[] {
  const vsDiod = ratios(rows, 'prose-tcp', 'diod-tcp');
  const vsRaw = ratios(rows, 'prose-tcp', 'raw-tcp');
  const out = ['', 'targets: prose-tcp p50 ≤ diod-tcp and ops/s ≥ diod-tcp, p50 ≤ 1.2 × raw-tcp (✓ met, ✗ missed):'];
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  for (const placement of [...new Set(vsDiod.map((r) => r.placement))]) {
    let met = 0, all = 0;
    for (const d of vsDiod.filter((r) => r.placement === placement)) {
      const w = vsRaw.find((r) => r.placement === placement && r.mode === d.mode && r.payload === d.payload);
      const checks = [d.p50_ratio <= 1, d.ops_ratio >= 1, ...(w !== undefined ? [w.p50_ratio <= 1.2] : [])];
      met += checks.filter(Boolean).length;
      all += checks.length;
      const raw = w !== undefined ? `, p50 vs raw ×${shownRatio(w.p50_ratio)} ${mark(w.p50_ratio <= 1.2)}` : '';
      out.push(`  ${placement.padEnd(9)} ${d.mode.padEnd(11)} ${String(d.payload).padStart(6)} B  p50 vs diod ×${shownRatio(d.p50_ratio)} ${mark(d.p50_ratio <= 1)}, ops/s ×${shownRatio(d.ops_ratio)} ${mark(d.ops_ratio >= 1)}${raw}`);
    }
    out.push(`  ${placement}: ${met} of ${all} met`);
  }
  return out;
}

if (require.main === module) serveClientProcess('--rep', runRep);

/**
 * Suite `storage`: the storage service against diod, same client (@prose/client), same
 * workloads, same run and CPU placement:
 *   - seq-write / seq-read: `mib` MiB (default 256) written then read sequentially at the largest
 *     msize each server accepts (ours 1 MiB+24 asked; diod 1.0.24 caps at 64 KiB), `window`
 *     requests in flight; payload = bytes per request, ops_per_s = requests/s, mb_per_s extra;
 *     seq-read with `read` (a buffer of its own per reply, as most callers use it); seq-read-ref
 *     the same file again with `readRef` on a second connection that lends its receive memory
 *     (`lendFrames`), so the client allocates nothing per reply (see storageSuite's notes);
 *   - create-getattr-unlink: `files` (default 10,000) small files, each lcreate + 64-byte write +
 *     getattr + clunk + unlinkat (diod lacks Tunlinkat: the client sends walk + Tremove, as
 *     Linux does), one at a time ("serial") and 16 at once ("parallel16"); ops_per_s = files/s,
 *     p50/p99 per file;
 *   - readdir: a directory of `entries` (default 10,000) files listed whole (walk, lopen,
 *     Treaddirs of msize, clunk) `listings` times per round ("readdir"; ops_per_s = listings/s,
 *     entries_per_s extra), and `coldListings` times per round with nothing cached by the server
 *     ("readdir-cold": before each, an entry is added and removed on the host, which changes the
 *     directory's ctime and so empties our listing cache for it; diod has none). Before each
 *     round, every (fresh) server makes `warmups` such listings of another directory of the
 *     same size, creates `warmFiles` files in each mode and writes and reads `warmMib` MiB, so
 *     that JIT warm-up (the client's included) is neither timed nor charged to one server.
 * Both servers run at once and export a directory of their own on the same file system (/tmp).
 * Every workload runs once per server per round, the servers taking turns (which goes first
 * alternates by round), for `rounds` rounds; each row is the median round, with the slowest and
 * fastest (rate_min, rate_max: MB/s for seq-*, ops/s otherwise). Each round starts both servers
 * afresh on the same directories and runs its client in a fresh process (`runRound`, as
 * `storage.js --round`), which warms them up as above: a Node process could run at one of two
 * speed levels for life, and so could a pair of them (layout.ts; with MESH_ENV, which the bench
 * gives every process, nearly always the fast one), so a row is a median over `rounds`
 * independent draws of the client and of each server, not `rounds` runs of one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, type Fid } from '@prose/client';
import { L_O_CREAT, L_O_RDONLY, L_O_WRONLY } from '@prose/protocol';
import { startServiceProc, type ServiceProc } from '../support/child.js';
import { haveDiod, startDiod, type Diod } from '../support/diod.js';
import { runClientProcess, serveClientProcess } from './client-process.js';
import { distBench } from './core.js';
import { formatLayout, layoutOf } from './layout.js';
import { defaultPlacements, inPlacements, type Placement } from './placement.js';
import { logLine, median, processCpuNs, round, shownRatio, summarize, type Row } from './stats.js';

export const STORAGE_CASES = ['prose-storage', 'diod'] as const;
export type StorageCase = (typeof STORAGE_CASES)[number];

export interface StorageOptions {
  /** MiB written and read sequentially (default 256). */
  mib?: number;
  /** Files created in create-getattr-unlink (default 10,000). */
  files?: number;
  /** Entries of the readdir directory (default 10,000). */
  entries?: number;
  /** Listings of it per round for readdir (default 20). */
  listings?: number;
  /** Uncached listings of it per round for readdir-cold (default 20). */
  coldListings?: number;
  /** Uncached listings of another directory of the same size on each server before anything is timed (default 40). */
  warmups?: number;
  /** Files created (each mode) and MiB written and read by each fresh server before a round is timed (default 2,000 and 32). */
  warmFiles?: number;
  warmMib?: number;
  /** Requests in flight for the sequential I/O (default 8). */
  window?: number;
  /** Rounds of each workload per server, the servers taking turns; the median is reported (default 5). */
  rounds?: number;
  placements?: Placement[];
  cases?: readonly StorageCase[];
  log?: (line: string) => void;
}

/** Where a round's client finds one server. */
interface PeerSpec {
  c: StorageCase;
  addr: string;
  aname: string;
  dir: string;
  pid?: number;
}

interface Peer extends PeerSpec {
  stop(): Promise<void>;
}

/** Starts server `c` exporting `dir` (made by the caller, kept across restarts). */
async function startPeer(c: StorageCase, cpus: string | undefined, dir: string): Promise<Peer> {
  if (c === 'diod') {
    // diod exports its own temp directory too; the attach names ours.
    const d: Diod = await startDiod({ prefix: cpus !== undefined ? ['taskset', '-c', cpus] : undefined, args: ['-e', dir] });
    return { c, addr: d.addr, aname: dir, dir, pid: d.proc.pid, stop: () => d.stop() };
  }
  const p: ServiceProc = await startServiceProc('storage', ['--export', dir, '--health', 'none'], { cpus });
  return { c, addr: p.addr, aname: '', dir, pid: p.proc.pid, stop: () => p.stop() };
}

/** Attaches to a started server at the largest msize it takes (with `lendFrames` as asked). */
async function attachTo(peer: PeerSpec, lendFrames = false): Promise<PeerConn> {
  const client = await Client.connect(peer.addr, { msize: 1024 * 1024 + 24, lendFrames });
  try {
    const root = await client.attach({ aname: peer.aname, uname: 'root', nUname: 0 });
    return { peer, client, root };
  } catch (e) {
    client.close();
    throw e;
  }
}

const now = () => process.hrtime.bigint();

/**
 * Starts counting CPU time; the function returned gives what this process (the client) and
 * process `pid` (the server, all its threads) have used since, in ms (`client_cpu_ms`,
 * `server_cpu_ms`; a field is left out where /proc cannot tell). With both ends on one CPU a
 * workload's wall time is about the sum of the two, so they say how much of it was the
 * server's: a ratio of wall times is diluted by the client's share, the same for both servers.
 */
function cpuSince(pid: number | undefined): () => { client_cpu_ms?: number; server_cpu_ms?: number } {
  const c0 = processCpuNs('self');
  const s0 = pid !== undefined ? processCpuNs(pid) : undefined;
  return () => {
    const c1 = processCpuNs('self');
    const s1 = pid !== undefined ? processCpuNs(pid) : undefined;
    const out: { client_cpu_ms?: number; server_cpu_ms?: number } = {};
    if (c0 !== undefined && c1 !== undefined) out.client_cpu_ms = round1((c1 - c0) / 1e6);
    if (s0 !== undefined && s1 !== undefined) out.server_cpu_ms = round1((s1 - s0) / 1e6);
    return out;
  };
}


async function seqWrite(root: Fid, bytes: number, window: number): Promise<{ wallNs: number; ops: number; size: number; samples: number[] }> {
  const f = await (await root.clone()).lcreate('seq', L_O_WRONLY | L_O_CREAT, 0o644);
  const size = f.ioSize;
  const buf = Buffer.alloc(size, 0x5a);
  const n = Math.ceil(bytes / size);
  const samples: number[] = [];
  let next = 0;
  const t0 = now();
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const s = now();
      const len = Math.min(size, bytes - i * size);
      const w = await f.write(i * size, len === size ? buf : buf.subarray(0, len));
      if (w !== len) throw new Error(`short write ${w} of ${len}`);
      samples.push(Number(now() - s));
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  const wallNs = Number(now() - t0);
  await f.clunk();
  return { wallNs, ops: n, size, samples };
}

/** `bytes` of file 'seq' read in order, `window` requests in flight: with `read`, or with `readRef` (each view released at once). */
async function seqRead(root: Fid, bytes: number, window: number, ref = false): Promise<{ wallNs: number; ops: number; size: number; samples: number[] }> {
  const f = await (await root.walk('seq')).lopen(L_O_RDONLY);
  const size = f.ioSize;
  const n = Math.ceil(bytes / size);
  const samples: number[] = [];
  let next = 0;
  let got = 0;
  const t0 = now();
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const s = now();
      if (ref) {
        const d = await f.readRef(i * size, size);
        got += d.data.length;
        d.release();
      } else {
        const d = await f.read(i * size, size); // (not `got += await …`: that reads `got` before the await)
        got += d.length;
      }
      samples.push(Number(now() - s));
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  const wallNs = Number(now() - t0);
  await f.clunk();
  if (got !== bytes) throw new Error(`read ${got} of ${bytes} bytes`);
  return { wallNs, ops: n, size, samples };
}

async function createGetattrUnlink(dir: Fid, files: number, lanes: number, tag: string): Promise<{ wallNs: number; samples: number[] }> {
  const payload = Buffer.alloc(64, 0x41);
  const samples: number[] = [];
  let next = 0;
  const t0 = now();
  const lane = async () => {
    while (next < files) {
      const i = next++;
      const name = `${tag}-${i}`;
      const s = now();
      const f = await (await dir.clone()).lcreate(name, L_O_WRONLY | L_O_CREAT, 0o644);
      await f.write(0, payload);
      const a = await f.getattr();
      if (a.size !== 64) throw new Error(`size ${a.size}`);
      await f.clunk();
      await dir.unlinkat(name);
      samples.push(Number(now() - s));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { wallNs: Number(now() - t0), samples };
}

async function listOnce(root: Fid, name: string, want: number): Promise<number> {
  const d = await (await root.walk(name)).lopen(L_O_RDONLY);
  const all = await d.readdirAll();
  await d.clunk();
  if (all.length !== want + 2) throw new Error(`listed ${all.length} entries, want ${want + 2}`);
  return all.length;
}

/** Runs the suite; one row per case × workload × placement (the median round of each). */
export async function runStorage(opts: StorageOptions = {}): Promise<Row[]> {
  const mib = opts.mib ?? 256;
  const files = opts.files ?? 10_000;
  const entries = opts.entries ?? 10_000;
  const listings = Math.max(2, opts.listings ?? 20);
  const coldListings = Math.max(1, opts.coldListings ?? 20);
  const warmups = Math.max(0, opts.warmups ?? 40);
  const warmFiles = Math.max(0, opts.warmFiles ?? 2000);
  const warmBytes = Math.max(0, opts.warmMib ?? 32) * 1024 * 1024;
  const window = opts.window ?? 8;
  const rounds = Math.max(1, opts.rounds ?? 5);
  const placements = opts.placements ?? defaultPlacements();
  const cases = (opts.cases ?? STORAGE_CASES).filter((c) => c !== 'diod' || haveDiod());
  const log = opts.log ?? (() => {});
  const rows: Row[] = [];
  const bytes = mib * 1024 * 1024;
  await inPlacements(placements, log, async (placement, cpus) => {
    // One export directory per server, filled once; the servers themselves are started afresh
    // for every round (see the module doc).
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-bench-storage-'));
    const dirs = new Map<StorageCase, string>();
    let peers: Peer[] = [];
    const stopPeers = async () => {
      const ps = peers;
      peers = [];
      await Promise.all(ps.map((p) => p.stop()));
    };
    try {
      for (const c of cases) {
        const dir = path.join(base, c);
        fs.mkdirSync(path.join(dir, 'cgu'), { recursive: true });
        for (const [name, prefix] of [['big', 'entry'], ['warm', 'warm']] as const) {
          const d = path.join(dir, name);
          fs.mkdirSync(d);
          for (let i = 0; i < entries; i++) fs.writeFileSync(path.join(d, `${prefix}-${String(i).padStart(6, '0')}`), '');
        }
        dirs.set(c, dir);
      }
      // Every round of every workload is kept; the median round of each is reported, with the
      // spread of the rounds beside it. Each round: both servers started afresh, and a fresh
      // client process (`runRound`, as `storage.js --round`) that warms them up and measures.
      const all = new Map<string, Row[]>();
      for (let round = 0; round < rounds; round++) {
        for (const c of cases) peers.push(await startPeer(c, cpus, dirs.get(c)!));
        const plan: RoundPlan = {
          round, rounds, placement, peers: peers.map((p) => ({ c: p.c, addr: p.addr, aname: p.aname, dir: p.dir, pid: p.pid })),
          bytes, files, entries, listings, coldListings, warmups, warmFiles, warmBytes, window,
        };
        for (const r of await runClientProcess<Row[]>(cpus, path.join(distBench(), 'storage.js'), '--round', plan, log)) {
          const k = `${r.case}/${r.mode}`;
          all.set(k, [...(all.get(k) ?? []), r]);
        }
        await stopPeers();
      }
      for (const c of cases) {
        for (const mode of STORAGE_MODES) {
          const rs = all.get(`${c}/${mode}`);
          if (rs !== undefined) rows.push(medianRound(rs, rounds));
        }
      }
    } finally {
      await stopPeers();
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
  return rows;
}

/** One round, as its client process runs it. */
interface RoundPlan {
  round: number;
  rounds: number;
  placement: Placement;
  peers: PeerSpec[];
  bytes: number;
  files: number;
  entries: number;
  listings: number;
  coldListings: number;
  warmups: number;
  warmFiles: number;
  warmBytes: number;
  window: number;
}

/**
 * One round in this process: attaches to every server, warms each up, then runs every workload
 * once per server, the servers taking turns (the first alternates by round). Returns a row per
 * server and workload.
 */
export async function runRound(plan: RoundPlan, log: (line: string) => void): Promise<Row[]> {
  const { round, placement, bytes, files, entries, listings, coldListings, warmups, warmFiles, warmBytes, window } = plan;
  const out: Row[] = [];
  const keep = (r: Row) => {
    out.push(r);
    const cpu = r.client_cpu_ms !== undefined ? `, cpu client ${r.client_cpu_ms} + server ${r.server_cpu_ms ?? '?'} ms` : '';
    log(`${r.case} ${r.mode} ${r.placement} round ${round + 1}/${plan.rounds}: ${r.ops_per_s} ops/s${r.mb_per_s !== undefined ? `, ${r.mb_per_s} MB/s` : ''}, p50 ${r.p50_us} µs${cpu}`);
  };
  const peers: PeerConn[] = [];
  const lenders = new Map<StorageCase, PeerConn>();
  try {
    for (const spec of plan.peers) peers.push(await attachTo(spec));
    for (const spec of plan.peers) lenders.set(spec.c, await attachTo(spec, true));
    const layouts = plan.peers.map((p) => `${p.c} ${p.pid !== undefined ? formatLayout(layoutOf(p.pid)) : '?'}`);
    log(`round ${round + 1}/${plan.rounds} ${placement}: client pid ${process.pid}; layouts, MiB mod 64 (layout.ts): client ${formatLayout(layoutOf('self'))}, ${layouts.join(', ')}`);
    // The same warm-up on every fresh server before anything is measured: `warmups`
    // uncached listings of another directory of the same size, `warmFiles` files created in
    // each mode, `warmMib` written and read, so that the code of every workload (ours, and
    // the client's, which would otherwise be charged to whichever server goes first) is
    // compiled before it is timed. Without it, the first seconds of a new Node process
    // (JIT compilation, on one CPU competing with the work itself) are most of the tail:
    // after 10 listings a fresh service still had 13-15 ms ones among its next ten (5-6 ms
    // once warm, as diod's); after 40 it had none.
    for (const { peer, root } of peers) {
      for (let i = 0; i < warmups; i++) await coldList(root, path.join(peer.dir, 'warm'), 'warm', entries);
      if (warmBytes > 0) {
        await seqWrite(root, warmBytes, window);
        await seqRead(root, warmBytes, window);
        await seqRead(lenders.get(peer.c)!.root, warmBytes, window, true);
        fs.rmSync(path.join(peer.dir, 'seq'), { force: true });
      }
      if (warmFiles > 0) {
        const dir = await root.walk('cgu');
        for (const lanes of [1, 16]) await createGetattrUnlink(dir, warmFiles, lanes, `warm-${round}-${lanes}`);
        await dir.clunk();
      }
    }
    const order = round % 2 === 0 ? peers : [...peers].reverse();
    const row = (p: PeerConn) => ({ case: p.peer.c, placement, msize: p.root.client.msize });
    for (const p of order) {
      const times: number[] = [];
      const cpu = cpuSince(p.peer.pid);
      const t0 = now();
      for (let i = 0; i < coldListings; i++) times.push(await coldList(p.root, path.join(p.peer.dir, 'big'), 'big', entries));
      const cold = summarize(times, Number(now() - t0));
      keep({ ...row(p), mode: 'readdir-cold', payload: entries, ...cold, entries_per_s: Math.round(cold.ops_per_s * entries), listings: coldListings, ...cpu() });
    }
    for (const p of order) {
      const cpu = cpuSince(p.peer.pid);
      const w = await seqWrite(p.root, bytes, window);
      keep({ ...row(p), mode: 'seq-write', ...seqFields(w, bytes), ...cpu() });
    }
    for (const p of order) {
      const cpu = cpuSince(p.peer.pid);
      const r = await seqRead(p.root, bytes, window);
      keep({ ...row(p), mode: 'seq-read', ...seqFields(r, bytes), ...cpu() });
    }
    for (const p of order) {
      const l = lenders.get(p.peer.c)!;
      const cpu = cpuSince(p.peer.pid);
      const r = await seqRead(l.root, bytes, window, true);
      keep({ ...row(p), mode: 'seq-read-ref', ...seqFields(r, bytes), ...cpu() });
      fs.rmSync(path.join(p.peer.dir, 'seq'), { force: true });
    }
    for (const [mode, lanes] of [['create-getattr-unlink', 1], ['create-getattr-unlink-parallel16', 16]] as const) {
      for (const p of order) {
        const dir = await p.root.walk('cgu');
        const cpu = cpuSince(p.peer.pid);
        const x = await createGetattrUnlink(dir, files, lanes, `${mode}-${round}`);
        const used = cpu();
        await dir.clunk();
        keep({ ...row(p), mode, payload: 64, ...summarize(x.samples, x.wallNs), files, ...used });
      }
    }
    for (const p of order) {
      const times: number[] = [];
      const cpu = cpuSince(p.peer.pid);
      const t0 = now();
      for (let i = 0; i < listings; i++) {
        const s = now();
        await listOnce(p.root, 'big', entries);
        times.push(Number(now() - s));
      }
      const warm = summarize(times, Number(now() - t0));
      keep({ ...row(p), mode: 'readdir', payload: entries, ...warm, entries_per_s: Math.round(warm.ops_per_s * entries), listings, ...cpu() });
    }
  } finally {
    for (const { client } of [...peers, ...lenders.values()]) client.close();
  }
  return out;
}

interface PeerConn {
  peer: PeerSpec;
  client: Client;
  root: Fid;
}

/** The workloads, in the order rows are reported. */
export const STORAGE_MODES = ['seq-write', 'seq-read', 'seq-read-ref', 'create-getattr-unlink', 'create-getattr-unlink-parallel16', 'readdir-cold', 'readdir'] as const;

/**
 * One listing of `name` (host path `hostDir`) with nothing cached by the server: an entry is
 * added to the directory and removed first, which changes its ctime, so our listing cache
 * (keyed on it) reads the directory again; diod keeps no listings. Returns the listing's time
 * (ns; the change before it is not timed).
 */
async function coldList(root: Fid, hostDir: string, name: string, entries: number): Promise<number> {
  fs.writeFileSync(path.join(hostDir, 'changed'), '');
  fs.rmSync(path.join(hostDir, 'changed'));
  const t = now();
  await listOnce(root, name, entries);
  return Number(now() - t);
}

/** The round with the median rate (MB/s for seq-*, ops/s otherwise), with the rounds' spread and median CPU times. */
function medianRound(rs: Row[], rounds: number): Row {
  const rate = (r: Row) => (r.mb_per_s !== undefined ? Number(r.mb_per_s) : r.ops_per_s);
  const sorted = [...rs].sort((a, b) => rate(a) - rate(b));
  const m: Row = { ...sorted[(sorted.length - 1) >> 1]!, rounds, rate_min: rate(sorted[0]!), rate_max: rate(sorted[sorted.length - 1]!) };
  // The CPU columns are the medians of all rounds' own, not the median-rate round's.
  for (const k of ['client_cpu_ms', 'server_cpu_ms']) {
    const xs = rs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
    if (xs.length === rs.length) m[k] = round1(median(xs));
    else delete m[k];
  }
  return m;
}

/** A sequential workload's row fields: payload per request, latencies and rate, MB/s and MiB moved. */
function seqFields(x: { size: number; samples: number[]; wallNs: number }, bytes: number) {
  return { payload: x.size, ...summarize(x.samples, x.wallNs), mb_per_s: round1(bytes / 1e6 / (x.wallNs / 1e9)), mib: bytes / (1024 * 1024) };
}

function round1(x: number): number {
  return round(x, 1);
}

/** ops/s (and MB/s) of prose-storage over diod per workload and placement, with the two rows. */
export function storageRatios(rows: Row[]): Array<{ placement: string; mode: string; ratio: number; ours: Row; diod: Row }> {
  const out = [];
  for (const r of rows.filter((x) => x.case === 'prose-storage')) {
    const d = rows.find((x) => x.case === 'diod' && x.mode === r.mode && x.placement === r.placement);
    if (!d) continue;
    const ratio = r.mb_per_s !== undefined ? Number(r.mb_per_s) / Number(d.mb_per_s) : r.ops_per_s / d.ops_per_s;
    out.push({ placement: String(r.placement), mode: r.mode, ratio, ours: r, diod: d });
  }
  return out;
}

/**
 * The notes' CPU lines: per placement and workload, the median CPU time (ms) of the client and
 * of the server, ours then diod's, and our server's over diod's. Empty without diod rows or
 * where /proc could not tell.
 */
export function storageCpuLines(rows: Row[]): string[] {
  const out: string[] = [];
  for (const { placement, mode, ours: o, diod: d } of storageRatios(rows)) {
    if (o.server_cpu_ms === undefined || d.server_cpu_ms === undefined) continue;
    const share = Number(d.server_cpu_ms) > 0 ? ` ×${(Number(o.server_cpu_ms) / Number(d.server_cpu_ms)).toFixed(2)}` : '';
    out.push(`  ${placement.padEnd(9)} ${mode.padEnd(34)} ${o.client_cpu_ms} + ${o.server_cpu_ms} | ${d.client_cpu_ms} + ${d.server_cpu_ms}${share}`);
  }
  if (out.length === 0) return out;
  return [
    '',
    'CPU time of each workload (ms, median of the rounds, from /proc/<pid>/task/*/schedstat): client + server with ours |',
    "client + server with diod, and our server's over diod's (< 1: ours used less):",
    ...out,
  ];
}

/** The `storage` entry of bench/main.ts: the full-size run, its table notes with the ratios. */
export async function storageSuite(a: { placements?: Placement[] }): Promise<{ rows: Row[]; notes: string[] }> {
  const rows = await runStorage({ placements: a.placements, log: logLine });
  const rounds = rows[0]?.rounds ?? 0;
  const notes = [
    '',
    `Each row is the median of ${rounds} rounds; in each round every workload runs once per server, the servers taking turns`,
    '(the first one alternates by round). Each round starts both servers afresh, and a client process (a Node process runs',
    '10-15% faster or slower than the next for its whole life: layout.ts), which warms each server up: 40 uncached listings',
    'of another 10,000-entry directory, 2,000 files created one at a time and 16 at once, 32 MiB written and read. Both',
    'servers export a directory of their own on the same file system, same client code.',
    '  seq-write / seq-read  256 MiB written into a new file, then read, in requests of msize-24 bytes, 8 in flight (MB/s).',
    '  seq-read-ref          the same file read again with readRef, on a connection that lends its receive memory: the client',
    '                         allocates nothing per reply. With `read`, a buffer of its own per reply brings V8 collections',
    '                         (mark-compacts, for 256 MiB of short-lived buffers) that cost the client 100-270 ms per 256 MiB on',
    '                         one CPU with either server, against 65-90 for either server: seq-read measures the client as much',
    '                         as the servers (see the CPU lines below).',
    '  create-getattr-unlink  10,000 files one at a time: walk (clone), lcreate, 64-byte write, getattr, clunk, unlinkat',
    '                         (diod: walk + remove instead of unlinkat, one more round trip) (files/s, p50/p99 per file).',
    '  ...-parallel16         the same, 16 files at once on one connection.',
    '  readdir-cold           20 listings per round of a 10,000-entry directory (walk, lopen, readdirs of msize, clunk), each',
    '                         after an entry was added and removed on the host: that changes the directory\'s ctime, so our',
    '                         listing cache (keyed on it) reads the directory again; diod keeps no listings. The host kernel\'s',
    '                         dentry and inode caches are warm for both.',
    '  readdir                20 listings per round of the same directory, unchanged (ours answers from its listing cache).',
    '',
    'prose-storage / diod of the medians (MB/s for seq-*, ops/s otherwise; > 1 means prose-storage is faster; target',
    "≥ 1.0: ✓ met, ✗ missed), and each server's slowest and fastest round:",
  ];
  for (const r of storageRatios(rows)) {
    const range = `  (rounds: ours ${r.ours.rate_min}–${r.ours.rate_max}, diod ${r.diod.rate_min}–${r.diod.rate_max})`;
    notes.push(`  ${r.placement.padEnd(9)} ${r.mode.padEnd(34)} ×${shownRatio(r.ratio)} ${r.ratio >= 1 ? '✓' : '✗'}${range}`);
  }
  notes.push(...storageCpuLines(rows));
  const m = rows.find((r) => r.case === 'diod');
  if (m) notes.push(`\nmsize: prose-storage ${rows.find((r) => r.case === 'prose-storage')?.msize}, diod ${m.msize} (diod 1.0.24's maximum).`);
  return { rows, notes };
}

if (require.main === module) serveClientProcess('--round', runRound);

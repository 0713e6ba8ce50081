/**
 * Suite `channel` (the PROSE paper's experiment): Twrites to a null file through our client and
 * server over each channel — shared memory between threads and between processes in each
 * signalling mode, a Unix socket, TCP — next to the raw floors (SAB ping-pong between two
 * threads with no 9P: spinning, and blocking Atomics.wait). Per row: p50/p99 µs and ops/s one
 * at a time ('serial') and with 16 outstanding ('pipelined16'), CPU seconds of both ends during
 * the row, and per case the CPU an idle, connected channel burns (below).
 *
 * How each shm case waits (the server end always waits in its event loop, in the mode the
 * client asked for): 'shm-*-notify' dials with the defaults, so the client too waits in its
 * event loop for every reply; 'shm-*-notify-block' dials notify with the option
 * `blockUs: 5000`: after each request the client blocks in the kernel on its doorbell for up
 * to 5 ms (its event loop held meanwhile) and leaves it to the loop after that. 'shm-*-poll'
 * and 'shm-proc-adaptive' poll on the client.
 *
 * Placement: 'same-cpu' pins the driver and the server (process or thread) to CPU 0;
 * 'diff-cpu' pins the driver to CPU 0 and a server process to CPU 1 (threads of one process
 * cannot be pinned apart here, so thread cases use 'unpinned' instead). A poll-mode side on a
 * shared CPU runs as notify: `effective_mode` says what ran.
 *
 * Copies per Twrite payload (the `copies` column), counted from the client Conn's transfer
 * counters over each row: on shm a frame under 2 KiB goes through the ring (2: in, out); a
 * bigger one goes to a payload slot the server reads in place (1: the client's Buffer into the
 * slot), and in mode 'serial-inplace' the client fills the slot itself (`Fid.writeInPlace`,
 * 0). unix/tcp 2 in the kernel (write, read); raw floors 2 (into the SAB, out of it).
 * 'serial-inplace' runs on the shm cases only; its producer writes the first and last 8 bytes
 * of each payload (making the data is the application's work in every mode and not counted).
 *
 * What the floors measure: the same request/reply exchange as a Twrite/Rwrite — the payload
 * copied into shared memory, copied out by the responder, a word back — between two threads of
 * this process, with no 9P: 'raw-sab-wait' blocks both threads in Atomics.wait, 'raw-sab-spin'
 * spins, and 'raw-loop-wait' waits in both threads' event loops on eventfd doorbells (@prose/shm
 * `Doorbell`, the wake-up path of notify mode without the rings or 9P). Our notify ends keep
 * their event loops free (the issue asks for it); 'raw-loop-wait' shows what that costs by
 * itself (on one CPU here: 3.5–3.7 µs against raw-sab-wait's 3.8–3.9, loops without the
 * idle-time metric as services run them), so what a notify case
 * adds to it is 9P and the rings. The client of a '-block' case holds its loop up to 5 ms per
 * request instead; see the shm README. The rings alone: 'shm-thread-echo' and 'shm-proc-echo'
 * send the same Twrite frames (encoded by the codec) over notify-mode ShmConns to a peer that
 * answers each with an Rwrite and has no 9P server (channel-peer's `echo`): what a notify case
 * adds to them is the client and the server. They run serial, on one CPU, with no idle window.
 *
 * Idle CPU (`idle_cpu_pct`, the issue's "idle CPU in notify/adaptive < 1% of a core"): not
 * measured in the driver, which has just run thousands of round trips and spends the next
 * seconds collecting their garbage (V8 concurrent marking: 1-3% of a core even for unix and
 * tcp). After a case's load rows, a fresh pair of processes is started in the case's
 * placement: a server peer (channel-peer.js) and a client peer (`channel.js --idle-client`)
 * that dials it in the case's mode, makes a few Twrites so the channel is known to be live,
 * says so and then waits with the channel open — in its normal idle state: notify/adaptive ends
 * asleep on their doorbells, poll ends spinning (a spinning side shows ~100% of a core, as it
 * should; on one shared CPU poll runs as notify). After a settling pause (`--idle-settle-ms`,
 * 28 s by default: start-up, JIT and the one-off GCs of V8's memory reducer 8-25 s after a
 * process starts are not counted) the CPU time of both processes, every thread, is read from
 * /proc (`processCpuNs`) across the idle window (`--idle-ms`, 5 s by default).
 * `idle_cpu_pct` is the sum as a percentage of one core (so two spinning poll ends read
 * ~200%), `idle_cpu_pct_server` and `idle_cpu_pct_client` each side; a thread case has both
 * ends in the client process and reports the sum only. After the window the client makes one
 * more Twrite: a channel that died while idle fails the case. The raw floors have no idle
 * figure.
 *
 * The notify targets' rows (serial 64 B on one CPU, and their floors) are the median over
 * `--procs` driver processes (7 by default; see notifyTargetsAcrossProcesses).
 *
 * CLI: node dist/test/bench/channel.js [--iterations N] [--idle-ms N] [--idle-settle-ms N]
 *      [--payloads 64,1024] [--cases a,b] [--placement same-cpu,diff-cpu] [--procs N]
 *      [--no-idle] [--serial-only] [--rows-json (rows as JSON on stdout, nothing written)]
 *      node dist/test/bench/channel.js --idle-client <case> [addr]   (the idle client peer)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Client, type Fid } from '@prose/client';
import { L_O_WRONLY, MsgType, encodeVec } from '@prose/protocol';
import type { Conn } from '@prose/transport';
import { Doorbell, dialShm, dialShmThread, doorbellPair, haveAddon, loopIdleMetric, type ShmConn, type ShmMode } from '@prose/shm';
import type { ChildProcess } from 'node:child_process';
import { startNodePeer, stopChild, type Peer } from '../support/child.js';
import { distBench, measure } from './core.js';
import { RAW } from './channel-peer.js';
import { allCpus, haveTaskset, pinSelf, spawnPinned } from './placement.js';
import { runJsonProcess } from './client-process.js';
import { logLine, median, processCpuNs, round, shownRatio, sizeLabel, summarize, table, writeResults, type Row } from './stats.js';

export const CHANNEL_CASES = [
  'shm-thread-poll', 'shm-thread-notify', 'shm-thread-notify-block', 'shm-proc-poll', 'shm-proc-notify', 'shm-proc-notify-block',
  'shm-proc-adaptive', 'unix', 'tcp', 'raw-sab-spin', 'raw-sab-wait', 'raw-loop-wait', 'shm-thread-echo', 'shm-proc-echo',
] as const;
export type ChannelCase = (typeof CHANNEL_CASES)[number];
export type ChannelPlacement = 'same-cpu' | 'diff-cpu' | 'unpinned';

export interface ChannelOptions {
  iterations?: number;
  warmup?: number;
  payloads?: number[];
  cases?: readonly ChannelCase[];
  /** Placements to run each case in (a thread case maps diff-cpu to unpinned). */
  placements?: ChannelPlacement[];
  depth?: number;
  /** Idle window of each case's fresh server and client peers, ms (the paper's idle CPU figure; 5000 by default). */
  idleMs?: number;
  /** Pause between the idle peers' connecting and the idle window, ms (IDLE_SETTLE_MS by default). */
  idleSettleMs?: number;
  /** Measure idle CPU (default true). */
  idle?: boolean;
  /** Serial mode only (no pipelined or in-place rows). */
  serialOnly?: boolean;
  log?: (line: string) => void;
}

/** The shm segment used by the bench: 1 MiB rings, 16 slots that hold a 1 MiB Twrite each. */
export const BENCH_LAYOUT = { ringSize: 1 << 20, slotCount: 16, slotSize: (1 << 20) + 4096 };

interface Target {
  roundTrip(payload: Buffer): Promise<unknown>;
  /** A Twrite of `n` bytes filled in place (shm: in a payload slot), when the client offers it. */
  writeInPlace?(n: number): Promise<unknown>;
  /** Transfer counters of the client's Conn (shm only). */
  stats?(): Readonly<ShmConn['stats']>;
  maxPayload: number;
  effectiveMode: string;
  close(): void;
}

/** CPU seconds (user+system) of a process from /proc (all its threads). */
function procCpu(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime at USER_HZ = 100
  } catch {
    return 0;
  }
}

/** CPU seconds of this process (every thread) and of `pids`. */
function cpuNow(pids: number[]): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6 + pids.reduce((s, p) => s + procCpu(p), 0);
}

/** The producer of 'serial-inplace': stamps both ends of the payload where it lies. */
function stamp(buf: Buffer): void {
  if (buf.length >= 16) {
    buf.writeDoubleLE(1, 0);
    buf.writeDoubleLE(1, buf.length - 8);
  }
}

async function nineOver(conn: Conn | string, mode: string): Promise<Target> {
  const c = await Client.connect(conn, { version: '9P2000.L' });
  const root = await c.attach({ aname: '', uname: 'root', nUname: 0 });
  const f: Fid = await root.walk('null');
  await f.lopen(L_O_WRONLY);
  const shm = typeof conn === 'string' ? undefined : (conn as ShmConn).stats !== undefined ? (conn as ShmConn) : undefined;
  return {
    roundTrip: (p) => f.write(0, p),
    writeInPlace: shm ? (n) => f.writeInPlace(0, n, stamp) : undefined,
    stats: shm ? () => ({ ...shm.stats }) : undefined,
    maxPayload: c.maxIo,
    effectiveMode: mode,
    close: () => c.close(),
  };
}

/** The transport alone: Twrite frames out, the echo peer's Rwrite back, no 9P client or server. */
function echoOver(conn: ShmConn): Target {
  let replied: (() => void) | undefined;
  conn.start({
    frame: () => {
      const r = replied;
      replied = undefined;
      r?.();
    },
    close: () => {},
  });
  return {
    roundTrip: (data) => new Promise<void>((resolve) => {
      replied = resolve;
      conn.send(encodeVec({ type: MsgType.Twrite, tag: 1, fid: 1, offset: 0, data }, '9P2000.L'));
    }),
    stats: () => ({ ...conn.stats }),
    maxPayload: BENCH_LAYOUT.slotSize - 4096,
    effectiveMode: conn.mode,
    close: () => conn.close(),
  };
}

const isEcho = (c: ChannelCase) => c.endsWith('-echo');

/** Mean payload copies per frame the client sent, from two snapshots of its shm counters. */
function shmCopies(a: Readonly<ShmConn['stats']>, b: Readonly<ShmConn['stats']>): number {
  const ring = b.txRing - a.txRing, slot = b.txSlotCopy - a.txSlotCopy, zc = b.txSlotZeroCopy - a.txSlotZeroCopy, frag = b.txFragmented - a.txFragmented;
  const n = ring + slot + zc + frag;
  return n === 0 ? 2 : round((2 * ring + slot + 2 * frag) / n, 2);
}

function cpusOf(p: ChannelPlacement): { driver: string; server: string | undefined } {
  if (p === 'same-cpu') return { driver: '0', server: '0' };
  if (p === 'diff-cpu' && os.cpus().length > 1) return { driver: '0', server: '1' };
  return { driver: allCpus(), server: undefined };
}

/** A started case: its target, the extra pids whose CPU counts, and how to stop it. */
interface Running {
  target: Target;
  pids: number[];
  stop(): Promise<void>;
}

/** The bounded blocking wait of the '-block' cases, µs (a bound under the kernel's tick does not pay; see the shm README). */
export const BENCH_BLOCK_US = 5000;

/** The dial options of an shm case: its mode, and the bounded blocking wait for the '-block' variants. */
function shmDialOpts(c: ChannelCase): { mode: ShmMode; blockUs?: number } {
  if (isEcho(c)) return { mode: 'notify' };
  const block = c.endsWith('-block');
  const mode = c.replace(/^shm-(proc|thread)-/, '').replace(/-block$/, '') as ShmMode;
  return block ? { mode, blockUs: BENCH_BLOCK_US } : { mode };
}

async function startShmThread(c: ChannelCase): Promise<Running> {
  const w = new Worker(path.join(distBench(), 'channel-peer.js'), { workerData: { role: isEcho(c) ? 'echo' : 'server', layout: BENCH_LAYOUT } });
  const { port } = await new Promise<{ port: import('node:worker_threads').MessagePort }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  try {
    const conn: ShmConn = await dialShmThread(port, { ...shmDialOpts(c), ...BENCH_LAYOUT });
    const target = isEcho(c) ? echoOver(conn) : await nineOver(conn, conn.mode);
    return { target, pids: [], stop: async () => { target.close(); await w.terminate(); } };
  } catch (e) {
    await w.terminate();
    throw e;
  }
}

/** channel-peer.js listening on `addrs` (echoing with `echo`), with the layout in the environment; collects every `listening` line. */
async function startProcServer(cpus: string | undefined, addrs: string[], echo = false): Promise<{ peer: Peer; addrs: string[] }> {
  process.env.PROSE_BENCH_LAYOUT = JSON.stringify(BENCH_LAYOUT);
  const peer = await startNodePeer(cpus, path.join(distBench(), 'channel-peer.js'), echo ? ['--echo', ...addrs] : addrs);
  // startNodePeer resolves on the first line; the others follow at once
  const got = [peer.addr];
  await new Promise<void>((resolve) => {
    let buf = '';
    const onData = (d: string) => {
      buf += d;
      for (const m of buf.matchAll(/listening (\S+)/g)) if (!got.includes(m[1]!)) got.push(m[1]!);
      if (got.length >= addrs.length) {
        peer.proc.stdout!.off('data', onData);
        resolve();
      }
    };
    if (got.length >= addrs.length) return resolve();
    peer.proc.stdout!.on('data', onData);
  });
  return { peer, addrs: got };
}

async function startCase(c: ChannelCase, placement: ChannelPlacement, dir: string): Promise<Running> {
  const { server } = cpusOf(placement);
  if (c.startsWith('shm-thread')) return startShmThread(c);
  const addr = c.startsWith('shm-proc') ? `shm!${path.join(dir, 'ctl.sock')}` : c === 'unix' ? `unix!${path.join(dir, 'null.sock')}` : 'tcp!127.0.0.1!0';
  const { peer, addrs } = await startProcServer(server, [addr], isEcho(c));
  const pid = peer.proc.pid!;
  try {
    let target: Target;
    if (c.startsWith('shm-proc')) {
      const conn = await dialShm(addrs[0]!, { ...shmDialOpts(c), ...BENCH_LAYOUT });
      target = isEcho(c) ? echoOver(conn) : await nineOver(conn, conn.mode);
    } else {
      target = await nineOver(addrs[0]!, '-');
    }
    return { target, pids: [pid], stop: async () => { target.close(); await peer.stop(); } };
  } catch (e) {
    await peer.stop();
    throw e;
  }
}

/** The raw floor: a worker copies each payload out of the SAB and acks; we spin or Atomics.wait. */
async function startRaw(c: 'raw-sab-spin' | 'raw-sab-wait' | 'raw-loop-wait', maxPayload: number): Promise<Running> {
  const sab = new SharedArrayBuffer(RAW.DATA + maxPayload);
  const w32 = new Int32Array(sab, 0, 1024);
  const data = Buffer.from(sab, RAW.DATA);
  const role = c === 'raw-sab-spin' ? 'raw-spin' : c === 'raw-sab-wait' ? 'raw-wait' : 'raw-loop';
  // raw-loop-wait: each side waits in its event loop on an eventfd doorbell, as notify-mode ends do.
  const bells = role === 'raw-loop' ? doorbellPair() : undefined;
  const worker = new Worker(path.join(distBench(), 'channel-peer.js'), { workerData: { role, sab, bell: bells?.[1] } });
  await new Promise((r) => worker.once('online', r));
  let seq = 0;
  let replied: (() => void) | undefined;
  const bell = bells && new Doorbell(bells[0], () => {
    if (replied !== undefined && Atomics.load(w32, RAW.ACK) === seq) {
      const r = replied;
      replied = undefined;
      r();
    }
  });
  const send = (payload: Buffer) => {
    payload.copy(data, 0);
    Atomics.store(w32, RAW.LEN, payload.length);
    seq++;
    Atomics.store(w32, RAW.REQ, seq);
  };
  const target: Target = {
    maxPayload,
    effectiveMode: role === 'raw-spin' ? 'spin' : role === 'raw-wait' ? 'wait' : 'notify',
    roundTrip(payload: Buffer) {
      send(payload);
      if (bell !== undefined) {
        return new Promise<void>((resolve) => {
          replied = resolve;
          bell.ring();
        });
      }
      if (role === 'raw-wait') {
        Atomics.notify(w32, RAW.REQ);
        while (Atomics.load(w32, RAW.ACK) !== seq) Atomics.wait(w32, RAW.ACK, seq - 1);
      } else {
        while (Atomics.load(w32, RAW.ACK) !== seq) {
          // spin
        }
      }
      return Promise.resolve();
    },
    close() {
      Atomics.store(w32, RAW.REQ, -1);
      Atomics.notify(w32, RAW.REQ);
      bell?.ring();
      bell?.close();
    },
  };
  return { target, pids: [], stop: async () => { target.close(); await worker.terminate(); } };
}

const isThreadCase = (c: ChannelCase) => c.startsWith('shm-thread') || c.startsWith('raw-');

/**
 * Wait after the idle peers are connected before their CPU is read (default of `idleSettleMs`):
 * past start-up and JIT, and past V8's memory reducer, which shrinks the heap of a new Node
 * process with up to three mark-compacts, the first about 8 s after start and the others 0.5
 * or 8 s apart (seen here at 8.2 and 8.8 s, or 8.2 and 16.9 s; 10-25 ms of CPU each, so 1-2%
 * of a core in a 5 s window holding them; then nothing while the process stays idle).
 */
const IDLE_SETTLE_MS = 28000;

/** Twrites the idle client makes before it reports the channel live. */
const IDLE_CHECK_TRIPS = 20;

/** Waits (≤ timeoutMs) for a line of a child's stdout matching `re`; rejects if the child exits first. */
function waitLine(proc: ChildProcess, re: RegExp, timeoutMs = 10000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (f: () => void) => { clearTimeout(timer); proc.stdout!.off('data', onData); proc.off('exit', onExit); f(); };
    const onData = (d: Buffer | string) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = re.exec(line);
        if (m) return done(() => resolve(m));
      }
    };
    const onExit = (code: number | null, sig: string | null) => done(() => reject(new Error(`idle client exited (${code ?? sig}) before "${re.source}"`)));
    const timer = setTimeout(() => done(() => reject(new Error(`idle client: no "${re.source}" in ${timeoutMs} ms`))), timeoutMs);
    proc.stdout!.on('data', onData);
    proc.once('exit', onExit);
  });
}

/** CPU of an idle channel, % of one core: both ends, and each side where they are separate processes. */
interface IdleCpu {
  total: number;
  server?: number;
  client?: number;
  secs: number;
  mode: string;
}

/**
 * The idle figure of case `c`: a fresh server peer and idle client peer in `placement`, a
 * settling pause, then the CPU both burn over `idleMs` (see the comment at the top).
 */
async function measureIdle(c: ChannelCase, placement: ChannelPlacement, dir: string, idleMs: number, settleMs: number): Promise<IdleCpu | undefined> {
  const { driver, server } = cpusOf(placement);
  let srv: Peer | undefined;
  let addr: string | undefined;
  if (!c.startsWith('shm-thread')) {
    const a = c.startsWith('shm-proc') ? `shm!${path.join(dir, 'idle-ctl.sock')}` : c === 'unix' ? `unix!${path.join(dir, 'idle-null.sock')}` : 'tcp!127.0.0.1!0';
    const started = await startProcServer(server, [a]);
    srv = started.peer;
    addr = started.addrs[0]!;
  }
  // the client where the driver runs the case (a thread case: both ends, as in the driver)
  let cli: ChildProcess | undefined;
  try {
    cli = spawnPinned(driver, process.execPath, [path.join(distBench(), 'channel.js'), '--idle-client', c, ...(addr ? [addr] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    const mode = (await waitLine(cli, /^idle (\S+)$/))[1]!;
    await new Promise((r) => setTimeout(r, settleMs));
    const sPid = srv?.proc.pid, cPid = cli.pid!;
    const s0 = sPid === undefined ? 0 : processCpuNs(sPid), c0 = processCpuNs(cPid);
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, idleMs));
    const s1 = sPid === undefined ? 0 : processCpuNs(sPid), c1 = processCpuNs(cPid);
    const ns = Number(process.hrtime.bigint() - t0);
    // still connected and working after the window?
    const live = waitLine(cli, /^live$/);
    cli.stdin!.write('check\n');
    await live;
    if (s0 === undefined || s1 === undefined || c0 === undefined || c1 === undefined) return undefined; // no /proc here
    const pct = (cpuNs: number) => round((cpuNs / ns) * 100, 2);
    const out: IdleCpu = { total: pct(s1 - s0 + c1 - c0), secs: ns / 1e9, mode };
    if (sPid !== undefined) {
      out.server = pct(s1 - s0);
      out.client = pct(c1 - c0);
    }
    return out;
  } finally {
    if (cli) await stopChild(cli);
    await srv?.stop();
  }
}

/**
 * The idle client peer (`channel.js --idle-client <case> [addr]`): dials `addr` (a thread case
 * starts its server worker itself) in the case's mode, makes IDLE_CHECK_TRIPS Twrites, prints
 * `idle <effective mode>` and then does nothing; each line on stdin gets one more Twrite and
 * `live`. Exits when stdin closes.
 */
async function idleClientMain(c: ChannelCase, addr: string | undefined): Promise<void> {
  let t: Target;
  if (c.startsWith('shm-thread')) t = (await startShmThread(c)).target;
  else if (c.startsWith('shm-proc')) {
    const conn = await dialShm(addr!, { ...shmDialOpts(c), ...BENCH_LAYOUT });
    t = await nineOver(conn, conn.mode);
  } else t = await nineOver(addr!, '-');
  const payload = Buffer.alloc(64, 0x5a);
  await measure(t, payload, IDLE_CHECK_TRIPS, 1);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    for (const _ of d.matchAll(/\n/g)) {
      t.roundTrip(payload).then(() => process.stdout.write('live\n'), (e) => {
        process.stderr.write(`idle client: ${(e as Error).message}\n`);
        process.exit(1);
      });
    }
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdout.write(`idle ${t.effectiveMode}\n`);
}

/** Runs the suite; rows as in core.json plus effective_mode, placement, cpu_s, idle_cpu_pct(_server, _client), copies. */
export async function runChannelBench(opts: ChannelOptions = {}): Promise<Row[]> {
  const n = opts.iterations ?? 10000;
  const warmup = opts.warmup ?? Math.min(500, n);
  const payloads = opts.payloads ?? [64, 1024, 8192, 65536, 1 << 20];
  const depth = opts.depth ?? 16;
  const idleMs = opts.idleMs ?? 5000;
  const idleSettleMs = opts.idleSettleMs ?? IDLE_SETTLE_MS;
  const placements = opts.placements ?? (os.cpus().length > 1 ? ['same-cpu', 'diff-cpu'] : ['same-cpu']);
  const cases = (opts.cases ?? CHANNEL_CASES).filter((c) => !(c.startsWith('shm-proc') || c === 'raw-loop-wait') || haveAddon());
  const log = opts.log ?? (() => {});
  // The driver's loop runs as every loop of ours in the benchmarks (null-server.ts), until the end.
  const idleMetric = loopIdleMetric(false);
  const rows: Row[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-channel-'));
  try {
    for (const placement0 of placements) {
      for (const c of cases) {
        const placement: ChannelPlacement = isThreadCase(c) && placement0 === 'diff-cpu' ? 'unpinned' : placement0;
        if (c === 'raw-sab-spin' && placement === 'same-cpu') continue; // a spin on a shared CPU costs a scheduler slice per message
        if (isEcho(c) && placement !== 'same-cpu') continue; // floors of the notify targets, which are on one CPU
        if (haveTaskset()) pinSelf(cpusOf(placement).driver);
        const run = c === 'raw-sab-spin' || c === 'raw-sab-wait' || c === 'raw-loop-wait' ? await startRaw(c, Math.max(...payloads)) : await startCase(c, placement, dir);
        const t = run.target;
        const caseRows: Row[] = [];
        try {
          const modes: Array<[string, number]> = c.startsWith('raw-') || isEcho(c) || opts.serialOnly ? [['serial', 1]] : [['serial', 1], [`pipelined${depth}`, depth]];
          if (t.writeInPlace && !opts.serialOnly && !isEcho(c)) modes.push(['serial-inplace', 1]);
          // JIT warm-up of both ends before the first row (the raw floors have next to no code to
          // warm), so that row measures the steady state like the rest.
          await measure(t, Buffer.alloc(Math.min(payloads[0]!, t.maxPayload)), 4 * warmup, 1);
          for (const size of payloads) {
            const sent = Math.min(size, t.maxPayload);
            const payload = Buffer.alloc(sent, 0x5a);
            for (const [mode, d] of modes) {
              const inPlace = t.writeInPlace;
              const mt = mode === 'serial-inplace' && inPlace ? { ...t, roundTrip: (p: Buffer) => inPlace(p.length) } : t;
              await measure(mt, payload, warmup, d);
              const cpu0 = cpuNow(run.pids);
              const st0 = t.stats?.();
              const { samples, wallNs } = await measure(mt, payload, n, d);
              const cpu = cpuNow(run.pids) - cpu0;
              const row: Row = {
                case: c, mode, payload: size, ...summarize(samples, wallNs), cpu_s: round(cpu, 2), placement,
                effective_mode: t.effectiveMode, copies: st0 && t.stats ? shmCopies(st0, t.stats()) : 2,
              };
              if (sent !== size) row.payload_sent = sent;
              caseRows.push(row);
              log(`${c} ${mode} ${sizeLabel(size)} ${placement} (${t.effectiveMode}): p50 ${row.p50_us} µs, p99 ${row.p99_us} µs, ${row.ops_per_s} ops/s, cpu ${row.cpu_s} s`);
            }
          }
        } finally {
          await run.stop();
        }
        if (!c.startsWith('raw-') && !isEcho(c) && opts.idle !== false) {
          // idle: fresh server and client peers, not this driver with the garbage of the load
          // behind it (see the comment at the top)
          const idle = await measureIdle(c, placement, dir, idleMs, idleSettleMs);
          if (idle) {
            for (const r of caseRows) {
              r.idle_cpu_pct = idle.total;
              if (idle.server !== undefined) r.idle_cpu_pct_server = idle.server;
              if (idle.client !== undefined) r.idle_cpu_pct_client = idle.client;
            }
            const split = idle.server !== undefined ? ` (server ${idle.server}%, client ${idle.client}%)` : ' (both ends in one process)';
            log(`${c} ${placement} (${idle.mode}): idle CPU ${idle.total}% of a core${split} over ${round(idle.secs, 1)} s`);
            if (idle.mode !== t.effectiveMode) log(`${c} ${placement}: note: the idle channel ran as ${idle.mode}, the loaded one as ${t.effectiveMode}`);
          } else log(`${c} ${placement}: no idle figure (no /proc)`);
        }
        rows.push(...caseRows);
      }
    }
  } finally {
    if (haveTaskset()) pinSelf(allCpus());
    if (!idleMetric.kept) loopIdleMetric(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** An SVG plot of serial p50 latency vs payload (log-log), one line per case and placement. */
export function latencySvg(rows: Row[], title = 'channel: Twrite p50 latency vs payload (serial)'): string {
  const serial = rows.filter((r) => r.mode === 'serial' && r.p50_us > 0);
  const series = new Map<string, Row[]>();
  for (const r of serial) {
    const k = `${r.case} (${r.placement})`;
    if (!series.has(k)) series.set(k, []);
    series.get(k)!.push(r);
  }
  const W = 900, H = 560, L = 70, R = 260, T = 40, B = 60;
  const xs = serial.map((r) => r.payload), ys = serial.map((r) => r.p50_us);
  const x0 = Math.log10(Math.min(...xs, 64)), x1 = Math.log10(Math.max(...xs, 65536));
  const y0 = Math.floor(Math.log10(Math.max(0.1, Math.min(...ys, 1)))), y1 = Math.ceil(Math.log10(Math.max(...ys, 10)));
  const px = (v: number) => L + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (v: number) => H - B - ((Math.log10(v) - y0) / (y1 - y0 || 1)) * (H - T - B);
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="24" font-size="15">${title}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  ];
  for (const p of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${px(p)}" y1="${H - B}" x2="${px(p)}" y2="${H - B + 5}" stroke="black"/><text x="${px(p)}" y="${H - B + 20}" text-anchor="middle">${sizeLabel(p)}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    const v = 10 ** e;
    out.push(`<line x1="${L}" y1="${py(v)}" x2="${W - R}" y2="${py(v)}" stroke="#ddd"/><text x="${L - 8}" y="${py(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toFixed(1)} µs</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle">payload (log)</text>`);
  let i = 0;
  for (const [name, rs] of series) {
    const col = colors[i % colors.length]!;
    const dash = name.includes('same-cpu') ? '' : ' stroke-dasharray="5,3"';
    const pts = rs.sort((a, b) => a.payload - b.payload).map((r) => `${px(r.payload).toFixed(1)},${py(r.p50_us).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${col}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${col}"/>`);
    const ly = T + 10 + i * 18;
    out.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 40}" y2="${ly}" stroke="${col}" stroke-width="2"${dash}/><text x="${W - R + 46}" y="${ly + 4}">${name}</text>`);
    i++;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The rows of the notify targets: serial 64 B Twrites on one CPU, and their floors. */
export const NOTIFY_TARGET_CASES = [
  'shm-thread-notify', 'shm-proc-notify', 'shm-thread-notify-block', 'shm-proc-notify-block', 'raw-sab-wait', 'raw-loop-wait', 'shm-thread-echo', 'shm-proc-echo',
] as const;
const isNotifyTargetRow = (r: Row) =>
  (NOTIFY_TARGET_CASES as readonly string[]).includes(r.case) && r.mode === 'serial' && r.placement === 'same-cpu' && r.payload === 64;

/**
 * Takes the notify targets' rows over `procs` driver processes. Between threads both ends of a
 * notify channel live in the driver, and a Node process runs at one of two speed levels for its
 * whole life (set by its address-space layout; see the shm README): one process is one draw.
 * So the rows of those targets (and of their floors, alike) are measured again in `procs - 1`
 * fresh driver processes (`channel.js --rows-json`, serial 64 B, same-cpu, no idle window), and
 * each row keeps the median p50, p99 and ops/s of all its processes, with `procs`,
 * `p50_min_us` and `p50_max_us`. Rows of other configurations are left as measured. Without
 * the shm addon the process cases are skipped by the children as by the suite.
 */
export async function notifyTargetsAcrossProcesses(rows: Row[], o: { procs?: number; iterations?: number; log?: (l: string) => void } = {}): Promise<Row[]> {
  const procs = Math.max(1, o.procs ?? 7);
  const targets = rows.filter(isNotifyTargetRow);
  if (procs === 1 || targets.length === 0) return rows;
  const runs = new Map<string, Row[]>(targets.map((r) => [r.case, [r]]));
  const args = [path.join(distBench(), 'channel.js'), '--rows-json', '--no-idle', '--serial-only', '--payloads', '64', '--placement', 'same-cpu',
    '--cases', targets.map((r) => r.case).join(','), '--iterations', String(o.iterations ?? 10000)];
  for (let k = 1; k < procs; k++) {
    const got = await runJsonProcess<Row[]>(undefined, args, () => {}, 300_000);
    for (const r of got.filter(isNotifyTargetRow)) runs.get(r.case)?.push(r);
    o.log?.(`notify targets, driver process ${k + 1}/${procs}: ${got.filter(isNotifyTargetRow).map((r) => `${r.case} ${r.p50_us}`).join(', ')} µs`);
  }
  return rows.map((r) => {
    const rs = isNotifyTargetRow(r) ? runs.get(r.case) : undefined;
    if (rs === undefined) return r;
    const p50s = rs.map((x) => x.p50_us);
    return {
      ...r, p50_us: round(median(p50s), 2), p99_us: round(median(rs.map((x) => x.p99_us)), 2), ops_per_s: Math.round(median(rs.map((x) => x.ops_per_s))),
      procs: rs.length, p50_min_us: Math.min(...p50s), p50_max_us: Math.max(...p50s),
    };
  });
}

/** Ratios against the issue's targets, as printable lines. */
export function channelTargets(rows: Row[]): string[] {
  const get = (c: string, placement: string, payload: number, mode = 'serial') =>
    rows.find((r) => r.case === c && r.placement === placement && r.payload === payload && r.mode === mode);
  const out: string[] = [];
  const ratio = (a: Row | undefined, b: Row | undefined, what: string, limit: string) => {
    if (!a || !b) return;
    const r = a.p50_us / b.p50_us;
    const spread = (x: Row) => (x.procs !== undefined ? ` [median of ${x.procs} processes, ${x.p50_min_us}–${x.p50_max_us}]` : '');
    out.push(`${what}: ${a.p50_us}${spread(a)} / ${b.p50_us}${spread(b)} µs = ×${shownRatio(r)} (target ${limit}) ${meets(r, limit) ? '✓' : '✗'}`);
  };
  for (const p of ['same-cpu', 'diff-cpu', 'unpinned']) {
    ratio(get('shm-proc-poll', p, 64), get('raw-sab-spin', p === 'diff-cpu' ? 'unpinned' : p, 64), `shm-proc-poll / raw-sab-spin 64 B ${p}`, '≤ 5');
    ratio(get('shm-thread-poll', p, 64), get('raw-sab-spin', p, 64), `shm-thread-poll / raw-sab-spin 64 B ${p}`, '≤ 5');
  }
  ratio(get('shm-proc-notify', 'same-cpu', 64), get('raw-sab-wait', 'same-cpu', 64), 'shm-proc-notify / raw-sab-wait 64 B same-cpu', '≤ 1.5');
  ratio(get('shm-thread-notify', 'same-cpu', 64), get('raw-sab-wait', 'same-cpu', 64), 'shm-thread-notify / raw-sab-wait 64 B same-cpu', '≤ 1.5');
  ratio(get('shm-proc-notify-block', 'same-cpu', 64), get('raw-sab-wait', 'same-cpu', 64), `shm-proc-notify-block / raw-sab-wait 64 B same-cpu (option blockUs ${BENCH_BLOCK_US})`, '≤ 1.5');
  ratio(get('shm-thread-notify-block', 'same-cpu', 64), get('raw-sab-wait', 'same-cpu', 64), `shm-thread-notify-block / raw-sab-wait 64 B same-cpu (option blockUs ${BENCH_BLOCK_US})`, '≤ 1.5');
  // What the event loop costs and what 9P over the rings costs, apart (no target: the split).
  const loop = get('raw-loop-wait', 'same-cpu', 64), wait = get('raw-sab-wait', 'same-cpu', 64);
  if (loop && wait) out.push(`raw-loop-wait / raw-sab-wait 64 B same-cpu (the event loop's wake-up path): ${loop.p50_us} / ${wait.p50_us} µs = ×${round(loop.p50_us / wait.p50_us, 2)}`);
  for (const k of ['thread', 'proc']) {
    const a = get(`shm-${k}-notify`, 'same-cpu', 64), e = get(`shm-${k}-echo`, 'same-cpu', 64);
    if (e && wait) out.push(`shm-${k}-echo / raw-sab-wait 64 B same-cpu (the rings alone, no 9P): ${e.p50_us} / ${wait.p50_us} µs = ×${round(e.p50_us / wait.p50_us, 2)}`);
    if (e && loop) out.push(`shm-${k}-echo − raw-loop-wait 64 B same-cpu (the rings, both ends): ${round(e.p50_us - loop.p50_us, 1)} µs`);
    if (a && e) out.push(`shm-${k}-notify − shm-${k}-echo 64 B same-cpu (9P client and server): ${round(a.p50_us - e.p50_us, 1)} µs`);
    else if (a && loop) out.push(`shm-${k}-notify − raw-loop-wait 64 B same-cpu (9P and the rings, both ends): ${round(a.p50_us - loop.p50_us, 1)} µs`);
  }
  ratio(get('unix', 'diff-cpu', 64), get('shm-proc-poll', 'diff-cpu', 64), 'unix / shm-proc-poll 64 B diff-cpu', '≥ 5');
  for (const size of [...new Set(rows.map((r) => r.payload))].sort((a, b) => a - b)) {
    ratio(get('shm-proc-notify', 'same-cpu', size), get('unix', 'same-cpu', size), `shm-proc-notify / unix ${sizeLabel(size)} same-cpu`, '< 1');
  }
  for (const c of ['shm-proc-poll', 'shm-proc-notify', 'shm-thread-poll', 'shm-thread-notify']) {
    for (const p of ['same-cpu', 'diff-cpu', 'unpinned']) {
      for (const mode of ['serial', 'serial-inplace']) {
        const a = get(c, p, 65536, mode), b = get(c, p, 64, mode);
        if (!a || !b) continue;
        const d = a.p50_us - b.p50_us;
        // (the target is the zero-copy path's: marked on the rows that took it)
        const mark = a.copies === 0 ? ` ${d <= 2 ? '✓' : '✗'}` : '';
        out.push(`${c} ${p} ${mode}: p50 64 KiB − p50 64 B = ${round(d, 1)} µs (target ≤ 2 on the zero-copy path; ${a.copies} copies at 64 KiB)${mark}`);
      }
    }
  }
  for (const r of rows.filter((x) => x.mode === 'serial' && x.payload === rows[0]!.payload && x.idle_cpu_pct !== undefined)) {
    const split = r.idle_cpu_pct_server !== undefined ? ` (server ${r.idle_cpu_pct_server}%, client ${r.idle_cpu_pct_client}%)` : '';
    // (the target, < 1% of a core, is notify's and adaptive's; a poll end spins by design)
    const mark = r.effective_mode === 'notify' || r.effective_mode === 'adaptive' ? ` (target < 1) ${Number(r.idle_cpu_pct) < 1 ? '✓' : '✗'}` : '';
    out.push(`idle CPU ${r.case} ${r.placement} (${r.effective_mode}): ${r.idle_cpu_pct}% of a core${split}${mark}`);
  }
  return out;
}

/** Whether `v` meets a target written as '≤ 5', '≥ 5' or '< 1'. */
function meets(v: number, limit: string): boolean {
  const [op, n] = limit.split(' ') as [string, string];
  const x = Number(n);
  return op === '≤' ? v <= x : op === '≥' ? v >= x : op === '<' ? v < x : v > x;
}

/** CLI: runs the suite, prints the table and the targets, writes bench-results/channel.{json,svg}. */
export async function channelMain(argv: string[]): Promise<void> {
  const opts: ChannelOptions = { log: logLine };
  let procs: number | undefined;
  let rowsJson = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--iterations') opts.iterations = Number(argv[++i]);
    else if (a === '--idle-ms') opts.idleMs = Number(argv[++i]);
    else if (a === '--idle-settle-ms') opts.idleSettleMs = Number(argv[++i]);
    else if (a === '--payloads') opts.payloads = argv[++i]!.split(',').map(Number);
    else if (a === '--cases') opts.cases = argv[++i]!.split(',') as ChannelCase[];
    else if (a === '--placement') opts.placements = argv[++i]!.split(',') as ChannelPlacement[];
    else if (a === '--no-idle') opts.idle = false;
    else if (a === '--serial-only') opts.serialOnly = true;
    else if (a === '--procs') procs = Number(argv[++i]);
    else if (a === '--rows-json') rowsJson = true;
  }
  if (rowsJson) {
    // A child run of notifyTargetsAcrossProcesses: rows only, as JSON, nothing written.
    process.stdout.write(JSON.stringify(await runChannelBench(opts)) + '\n');
    return;
  }
  const rows = await notifyTargetsAcrossProcesses(await runChannelBench(opts), { procs, iterations: opts.iterations, log: opts.log });
  process.stdout.write(table(rows, ['case', 'mode', 'placement', 'effective_mode', 'payload', 'p50_us', 'p99_us', 'ops_per_s', 'copies', 'cpu_s', 'idle_cpu_pct', 'idle_cpu_pct_server', 'idle_cpu_pct_client']) + '\n\n');
  process.stdout.write(channelTargets(rows).join('\n') + '\n');
  const file = await writeResults('channel', rows, { when: new Date().toISOString(), layout: BENCH_LAYOUT, cpus: os.cpus().length, node: process.version });
  fs.writeFileSync(path.join(path.dirname(file), 'channel.svg'), latencySvg(rows));
  process.stdout.write(`wrote ${file} and ${path.join(path.dirname(file), 'channel.svg')}\n`);
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  (argv[0] === '--idle-client' ? idleClientMain(argv[1] as ChannelCase, argv[2]) : channelMain(argv)).catch((e) => {
    process.stderr.write(`bench channel: ${(e as Error).stack}\n`);
    process.exit(1);
  });
}

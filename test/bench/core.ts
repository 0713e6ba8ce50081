/**
 * Suite `core`: Twrite round trips to a null file, one at a time and with 16 outstanding, for
 * our client against our server (Unix socket and TCP) and against diod (TCP), next to a raw
 * length-prefixed Node exchange with no 9P (the floor for Node sockets). Every peer is a child
 * process; the driver and the peers share a CPU placement that is reported with each row.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { Client, type Fid } from '@prose/client';
import { L_O_WRONLY } from '@prose/protocol';
import { startNodePeer, type Peer } from '../support/child.js';
import { allCpus, cpusFor, pinSelf, type Placement } from './placement.js';
import { RawClient } from './raw-echo.js';
import { summarize, type Row } from './stats.js';
import { startDiod, haveDiod, type Diod } from '../support/diod.js';

export const CORE_CASES = ['prose-unix', 'prose-tcp', 'diod-tcp', 'raw-tcp'] as const;
export type CoreCase = (typeof CORE_CASES)[number];

export interface CoreOptions {
  iterations?: number;
  warmup?: number;
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
  close(): void;
}

/** Where the compiled bench scripts live (peers run as plain node on the built JS). */
export function distBench(): string {
  return __filename.endsWith('.js') ? __dirname : path.resolve(__dirname, '../../dist/test/bench');
}

async function nineTarget(addr: string, aname: string): Promise<Target> {
  const c = await Client.connect(addr, { version: '9P2000.L' });
  const root = await c.attach({ aname, uname: 'root', nUname: 0 });
  const f: Fid = await root.walk('null');
  await f.lopen(L_O_WRONLY);
  return { roundTrip: (p) => f.write(0, p), maxPayload: c.maxIo, close: () => c.close() };
}

async function rawTarget(addr: string): Promise<Target> {
  const port = Number(addr.split('!').pop());
  const r = await RawClient.connect(port);
  return { roundTrip: (p) => r.roundTrip(p), maxPayload: Number.MAX_SAFE_INTEGER, close: () => r.close() };
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

async function connect(c: CoreCase, peers: Peers): Promise<Target> {
  switch (c) {
    case 'prose-unix': return nineTarget(`unix!${peers.unixPath}`, '');
    case 'prose-tcp': return nineTarget(peers.prose!.addr, '');
    case 'diod-tcp': return nineTarget(peers.diod!.addr, '/dev');
    case 'raw-tcp': return rawTarget(peers.raw!.addr);
  }
}

/** Runs the suite and returns its rows (one per case × mode × payload × placement). */
export async function runCore(opts: CoreOptions = {}): Promise<Row[]> {
  const n = opts.iterations ?? 10000;
  const warmup = opts.warmup ?? Math.min(500, n);
  const payloads = opts.payloads ?? [64, 1024, 8192, 65536];
  const placements = opts.placements ?? ['same-cpu', 'unpinned'];
  const depth = opts.depth ?? 16;
  const cases = (opts.cases ?? CORE_CASES).filter((c) => c !== 'diod-tcp' || haveDiod());
  const log = opts.log ?? (() => {});
  const rows: Row[] = [];
  for (const placement of placements) {
    const cpus = cpusFor(placement);
    pinSelf(cpus ?? allCpus());
    const peers = await startPeers(cpus, cases);
    try {
      for (const c of cases) {
        const t = await connect(c, peers);
        try {
          for (const size of payloads) {
            const sent = Math.min(size, t.maxPayload);
            const payload = Buffer.alloc(sent, 0x5a);
            for (const [mode, d] of [['serial', 1], [`pipelined${depth}`, depth]] as const) {
              await measure(t, payload, warmup, d);
              const { samples, wallNs } = await measure(t, payload, n, d);
              const row: Row = { case: c, mode, payload: size, ...summarize(samples, wallNs), placement };
              if (sent !== size) row.payload_sent = sent;
              rows.push(row);
              log(`${c} ${mode} ${size} ${placement}: p50 ${row.p50_us} µs, p99 ${row.p99_us} µs, ${row.ops_per_s} ops/s`);
            }
          }
        } finally {
          t.close();
        }
      }
    } finally {
      await peers.stop();
    }
  }
  pinSelf(allCpus());
  return rows;
}

/** p50 and ops/s ratios of one case against another, per placement, mode and payload. */
export function ratios(rows: Row[], a: string, b: string): Array<{ placement: string; mode: string; payload: number; p50_ratio: number; ops_ratio: number }> {
  const out = [];
  for (const r of rows.filter((x) => x.case === a)) {
    const o = rows.find((x) => x.case === b && x.mode === r.mode && x.payload === r.payload && x.placement === r.placement);
    if (!o) continue;
    out.push({
      placement: String(r.placement), mode: r.mode, payload: r.payload,
      p50_ratio: Math.round((r.p50_us / o.p50_us) * 100) / 100,
      ops_ratio: Math.round((r.ops_per_s / o.ops_per_s) * 100) / 100,
    });
  }
  return out;
}

/**
 * Suite `gateways`: what a partition pays for reaching the network through the net gateway
 * (services/net, Plan 9 /net/tcp over 9P) instead of opening sockets itself. The same HTTP
 * exchanges run against one node:http peer three ways in the same run:
 *   direct     plain node:net sockets from the driver (the floor)
 *   net-unix   through /net/tcp, the driver's 9P session on the gateway's Unix socket
 *   net-tcp    through /net/tcp, the 9P session over TCP
 * Modes: `http-dial` (a new connection per request, Connection: close, read to end of file;
 * serial and 8 at once), `http-keepalive` (request/response on one connection), `bulk-down`
 * and `bulk-up` (one large body each way per operation). Every peer is a child process on the
 * same CPU placement as the driver; the placement is in every row. The net service is covered;
 * cons and time have no rows here (nothing to compare them against in this suite yet).
 */
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { Client, type Fid } from '@prose/client';
import { startNodePeer, startServiceProc, type Peer, type ServiceProc } from '../support/child.js';
import { netDial, type NetConn } from '../support/net-dial.js';
import { distBench } from './core.js';
import { defaultPlacements, inPlacements, type Placement } from './placement.js';
import { logLine, pairRows, round, summarize, table, type Row } from './stats.js';

export const GATEWAY_CASES = ['direct', 'net-unix', 'net-tcp'] as const;
export type GatewayCase = (typeof GATEWAY_CASES)[number];

export interface GatewaysOptions {
  /** HTTP requests measured per case, mode and payload (default 2000). */
  iterations?: number;
  /** HTTP response body sizes (default 64 B and 16 KiB). */
  payloads?: number[];
  /** Bytes of one bulk transfer (default 64 MiB). */
  bulkBytes?: number;
  /** Bulk transfers measured per case and direction (default 3). */
  bulkRepeats?: number;
  /** Concurrent requests of the concurrent dial mode (default 8). */
  concurrency?: number;
  placements?: Placement[];
  cases?: readonly GatewayCase[];
  log?: (line: string) => void;
}

/** How one case reaches the HTTP peer. */
interface Way {
  /** One request on a new connection, read to end of file; resolves with the bytes received. */
  dial(req: Buffer): Promise<number>;
  /** A kept-alive connection doing request/response round trips. */
  keepalive(): Promise<{ roundTrip(req: Buffer): Promise<number>; close(): Promise<void> }>;
  close(): void;
}

/** Tells when one HTTP response (headers + Content-Length body) is complete. */
class ResponseMeter {
  private head: Buffer = Buffer.alloc(0);
  private need = -1;
  private got = 0;

  /** Adds a chunk; true once the response is complete. Resets itself for the next one. */
  push(b: Buffer): boolean {
    this.got += b.length;
    if (this.need < 0) {
      this.head = this.head.length ? Buffer.concat([this.head, b]) : b;
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const m = /\r\ncontent-length: *(\d+)/i.exec(this.head.subarray(0, end).toString('latin1'));
      if (!m) throw new Error('response without content-length');
      this.need = end + 4 + Number(m[1]);
    }
    if (this.got < this.need) return false;
    this.head = Buffer.alloc(0);
    this.need = -1;
    this.got = 0;
    return true;
  }
}

function tcpConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Plain sockets. */
function directWay(port: number): Way {
  return {
    async dial(req) {
      const s = await tcpConnect(port);
      return new Promise<number>((resolve, reject) => {
        let n = 0;
        s.on('data', (d: Buffer) => { n += d.length; });
        s.once('end', () => { s.destroy(); resolve(n); });
        s.once('error', reject);
        s.write(req);
      });
    },
    async keepalive() {
      const s = await tcpConnect(port);
      const meter = new ResponseMeter();
      let waiting: ((n: number) => void) | undefined;
      let n = 0;
      s.on('data', (d: Buffer) => {
        n += d.length;
        if (meter.push(d)) {
          const w = waiting!;
          waiting = undefined;
          const got = n;
          n = 0;
          w(got);
        }
      });
      return {
        roundTrip: (req) => new Promise<number>((resolve) => {
          waiting = resolve;
          s.write(req);
        }),
        close: async () => void s.destroy(),
      };
    },
    close() {},
  };
}

/** Through the gateway's /net/tcp over one 9P session. */
async function netWay(addr: string, httpPort: number): Promise<Way> {
  const client = await Client.connect(addr, { version: '9P2000.L' });
  const root: Fid = await client.attach({ uname: 'bench' });
  const target = `127.0.0.1!${httpPort}`;
  return {
    async dial(req) {
      const conv = await netDial(root, 'tcp', target);
      try {
        await conv.data!.write(0, req);
        let n = 0;
        await conv.readToEnd({ window: 1, onChunk: (b) => { n += b.length; } });
        return n;
      } finally {
        await conv.close();
      }
    },
    async keepalive() {
      const conv: NetConn = await netDial(root, 'tcp', target);
      const data = conv.data!;
      const meter = new ResponseMeter();
      return {
        async roundTrip(req) {
          await data.write(0, req);
          let n = 0;
          for (;;) {
            const b = await data.read(0, data.ioSize);
            if (b.length === 0) throw new Error('connection closed mid-response');
            n += b.length;
            if (meter.push(b)) return n;
          }
        },
        close: () => conv.close(),
      };
    },
    close: () => client.close(),
  };
}

/** Bulk transfers, measured separately: large bodies down (GET) and up (POST). */
interface Bulk {
  down(n: number): Promise<number>;
  up(body: Buffer): Promise<void>;
}

function directBulk(port: number): Bulk {
  return {
    async down(n) {
      const s = await tcpConnect(port);
      return new Promise<number>((resolve, reject) => {
        let got = 0;
        s.on('data', (d: Buffer) => { got += d.length; });
        s.once('end', () => { s.destroy(); resolve(got); });
        s.once('error', reject);
        s.write(`GET /bytes/${n} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
    },
    async up(body) {
      const s = await tcpConnect(port);
      await new Promise<void>((resolve, reject) => {
        let answer = '';
        s.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
        s.once('end', () => {
          s.destroy();
          if (answer.endsWith(`\r\n\r\n${body.length}\n`)) resolve();
          else reject(new Error(`sink answered ${JSON.stringify(answer.slice(-40))}`));
        });
        s.once('error', reject);
        s.write(`POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`);
        s.write(body);
      });
    },
  };
}

async function netBulk(addr: string, httpPort: number): Promise<Bulk & { close(): void }> {
  const client = await Client.connect(addr, { version: '9P2000.L' });
  const root = await client.attach({ uname: 'bench' });
  const target = `127.0.0.1!${httpPort}`;
  return {
    async down(n) {
      const conv = await netDial(root, 'tcp', target);
      try {
        await conv.data!.write(0, Buffer.from(`GET /bytes/${n} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
        let got = 0;
        await conv.readToEnd({ window: 2, onChunk: (b) => { got += b.length; } });
        return got;
      } finally {
        await conv.close();
      }
    },
    async up(body) {
      const conv = await netDial(root, 'tcp', target);
      try {
        await conv.data!.write(0, Buffer.from(`POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`));
        await conv.write(body, 4);
        const answer = Buffer.concat(await conv.readToEnd()).toString('latin1');
        if (!answer.endsWith(`\r\n\r\n${body.length}\n`)) throw new Error(`sink answered ${JSON.stringify(answer.slice(-40))}`);
      } finally {
        await conv.close();
      }
    },
    close: () => client.close(),
  };
}

/** `n` operations with at most `depth` at once; per-op latencies (ns) and wall time. */
async function measure(n: number, depth: number, op: () => Promise<number>): Promise<{ samples: Float64Array; wallNs: number; bytes: number }> {
  const samples = new Float64Array(n);
  let issued = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  const lane = async () => {
    while (issued < n) {
      const i = issued++;
      const t0 = process.hrtime.bigint();
      const got = await op();
      bytes += got;
      samples[i] = Number(process.hrtime.bigint() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, depth) }, lane));
  return { samples, wallNs: Number(process.hrtime.bigint() - start), bytes };
}

function row(c: string, mode: string, payload: number, placement: string, m: { samples: Float64Array; wallNs: number; bytes: number }): Row {
  return {
    case: c, mode, payload, ...summarize(m.samples, m.wallNs), mb_per_s: round(m.bytes / (m.wallNs / 1e9) / 1e6, 2), placement,
  };
}

interface Peers {
  http: Peer;
  net: ServiceProc | undefined;
  unix: string;
  stop(): Promise<void>;
}

async function startPeers(cpus: string | undefined, needNet: boolean): Promise<Peers> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-gw-bench-'));
  const unix = `unix!${path.join(dir, 'net.sock')}`;
  let httpPeer: Peer | undefined;
  let netProc: ServiceProc | undefined;
  const stop = async () => {
    await Promise.all([httpPeer?.stop(), netProc?.stop()]);
    await fsp.rm(dir, { recursive: true, force: true });
  };
  try {
    httpPeer = await startNodePeer(cpus, path.join(distBench(), 'http-peer.js'), []);
    if (needNet) netProc = await startServiceProc('net', ['--listen', 'tcp!127.0.0.1!0', '--listen', unix, '--health', 'none'], { cpus });
  } catch (e) {
    await stop();
    throw e;
  }
  return { http: httpPeer, net: netProc, unix, stop };
}

function portOf(addr: string): number {
  return Number(addr.split('!').pop());
}

/** Runs the suite and returns its rows (case × mode × payload × placement). */
export async function runGateways(opts: GatewaysOptions = {}): Promise<Row[]> {
  const n = opts.iterations ?? 2000;
  const warm = Math.max(2, Math.min(100, Math.floor(n / 10)));
  const payloads = opts.payloads ?? [64, 16384];
  const bulkBytes = opts.bulkBytes ?? 64 * 1024 * 1024;
  const repeats = opts.bulkRepeats ?? 3;
  const depth = opts.concurrency ?? 8;
  const placements = opts.placements ?? defaultPlacements();
  const cases = opts.cases ?? GATEWAY_CASES;
  const log = opts.log ?? (() => {});
  const body = Buffer.alloc(bulkBytes, 0x62);
  const rows: Row[] = [];
  const add = (r: Row) => {
    rows.push(r);
    log(`${r.case} ${r.mode} ${r.payload} ${r.placement}: p50 ${r.p50_us} µs, p99 ${r.p99_us} µs, ${r.ops_per_s} ops/s, ${r.mb_per_s} MB/s`);
  };
  await inPlacements(placements, log, async (placement, cpus) => {
    const peers = await startPeers(cpus, cases.some((c) => c !== 'direct'));
    const httpPort = portOf(peers.http.addr);
    try {
      for (const c of cases) {
        const addr = c === 'net-unix' ? peers.unix : peers.net?.addr;
        const way = c === 'direct' ? directWay(httpPort) : await netWay(addr!, httpPort);
        const bulk = c === 'direct' ? directBulk(httpPort) : await netBulk(addr!, httpPort);
        try {
          for (const size of payloads) {
            const close = Buffer.from(`GET /small/${size} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
            const keep = Buffer.from(`GET /small/${size} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
            for (const [mode, d] of [['http-dial', 1], [`http-dial-c${depth}`, depth]] as const) {
              await measure(warm, d, () => way.dial(close));
              add(row(c, mode, size, placement, await measure(n, d, () => way.dial(close))));
            }
            const k = await way.keepalive();
            try {
              await measure(warm, 1, () => k.roundTrip(keep));
              add(row(c, 'http-keepalive', size, placement, await measure(n, 1, () => k.roundTrip(keep))));
            } finally {
              await k.close();
            }
          }
          await bulk.down(Math.min(bulkBytes, 1 << 20));
          add(row(c, 'bulk-down', bulkBytes, placement, await measure(repeats, 1, () => bulk.down(bulkBytes))));
          await bulk.up(body.subarray(0, Math.min(bulkBytes, 1 << 20)));
          add(row(c, 'bulk-up', bulkBytes, placement, await measure(repeats, 1, async () => {
            await bulk.up(body);
            return bulkBytes;
          })));
        } catch (e) {
          // Say what the gateway said: its stderr is the first thing to read when a case fails.
          const said = peers.net?.stderr().trim();
          if (said && e instanceof Error) e.message += `\n-- net service stderr:\n${said.slice(-4000)}`;
          throw e;
        } finally {
          way.close();
          (bulk as Partial<{ close(): void }>).close?.();
        }
      }
    } finally {
      await peers.stop();
    }
  });
  return rows;
}

/** ops/s and MB/s of case `a` over case `b`, per placement, mode and payload. */
export function gatewayRatios(rows: Row[], a: string, b: string): Array<{ placement: string; mode: string; payload: number; ops_ratio: number; mb_ratio: number }> {
  return pairRows(rows, a, b).map(([r, o]) => ({
    placement: String(r.placement), mode: r.mode, payload: r.payload,
    ops_ratio: round(r.ops_per_s / o.ops_per_s, 2), mb_ratio: round(Number(r.mb_per_s) / Number(o.mb_per_s), 2),
  }));
}

/** The suite as `main.ts` runs it: rows plus the ratio notes. */
export async function gatewaysSuite(a: { iterations?: number; placements?: Placement[] }): Promise<{ rows: Row[]; notes: string[] }> {
  const rows = await runGateways({ iterations: a.iterations, placements: a.placements, log: logLine });
  const notes: string[] = [];
  for (const x of ['net-unix', 'net-tcp']) {
    notes.push(`\n${x} / direct (ratio 1 = as fast as plain sockets; MB = 10^6 bytes):`);
    for (const r of gatewayRatios(rows, x, 'direct')) {
      notes.push(`  ${r.placement.padEnd(9)} ${r.mode.padEnd(15)} ${String(r.payload).padStart(9)} B  ops/s ×${r.ops_ratio}  MB/s ×${r.mb_ratio}`);
    }
  }
  const bulk = rows.filter((r) => r.mode.startsWith('bulk'));
  if (bulk.length) notes.push('', 'bulk transfers:', table(bulk, ['case', 'mode', 'placement', 'payload', 'p50_us', 'mb_per_s']));
  notes.push('covered: net (cons and time have no rows in this suite)');
  return { rows, notes };
}

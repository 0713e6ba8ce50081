/**
 * Suite `directory`: the directory of I/O channels on a real nats-server (one node, JetStream KV):
 *   - lookup warm: `Directory.lookup` from the watched cache (what a partition does per mount);
 *   - lookup cold: `lookup({ fresh: true })`, read from the KV bucket over NATS;
 *   - lookup first: connect a new NatsStore, sync a Directory, look up (a process's first lookup);
 *   - attach-by-name: a fresh Namespace mounts the service by name (lookup, dial, Tversion,
 *     Tattach) and stats one file;
 *   - failover-gap: a name space streams reads and writes to one provider of two, the provider is
 *     SIGKILLed, and the gap from the loss seen to every open file reopened on the other provider
 *     is taken, `kills` times (a fresh provider replaces each victim). Target: p50 < 1 s.
 * Providers are the shared-file fixture (dist/test/directory/fixtures/shared-file.js), registered
 * with `--registry` like any service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Directory, NatsStore, register } from '@prose/directory';
import { Namespace, type FailoverInfo } from '@prose/namespace';
import { ORDWR } from '@prose/protocol';
import { REPO_ROOT } from '../support/child.js';
import { haveNatsServer, startNats } from '../support/nats.js';
import { logLine, round, summarize, type Row } from './stats.js';

export const SHARED_FILE = path.join(REPO_ROOT, 'dist', 'test', 'directory', 'fixtures', 'shared-file.js');

export interface DirectoryBenchOptions {
  /** Warm and cold lookups (default 2000). */
  lookups?: number;
  /** First lookups and attaches by name (default 50). */
  attaches?: number;
  /** Provider kills for the failover gap (default 20). */
  kills?: number;
  log?: (line: string) => void;
}

interface Proc {
  proc: ChildProcess;
  provider: string;
}

function startProvider(servers: string, file: string): Promise<Proc> {
  const proc = spawn(process.execPath, [SHARED_FILE, '--file', file, '--listen', 'tcp!127.0.0.1!0', '--health', 'none',
    '--registry', servers, '--registry-lease-ms', '3000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('provider did not start')); }, 15000);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      out += d;
      const m = /^registered \S+ (\S+)$/m.exec(out);
      if (m) { clearTimeout(t); resolve({ proc, provider: m[1]! }); }
    });
    proc.once('exit', (c) => { clearTimeout(t); reject(new Error(`provider exited ${c}`)); });
  });
}

function row(mode: string, samplesNs: number[], wallNs: number, extra: Record<string, number | string> = {}): Row {
  return { case: 'directory', mode, payload: 0, ...summarize(samplesNs, wallNs), n: samplesNs.length, ...extra };
}

async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<{ samples: number[]; wall: number }> {
  const samples: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - s));
  }
  return { samples, wall: Number(process.hrtime.bigint() - t0) };
}

export async function runDirectoryBench(o: DirectoryBenchOptions = {}): Promise<{ rows: Row[]; gapsMs: number[] }> {
  if (!haveNatsServer()) throw new Error('nats-server is not installed');
  const log = o.log ?? (() => {});
  const nats = await startNats(1);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-dirbench-'));
  const procs: Proc[] = [];
  const stores: NatsStore[] = [];
  const rows: Row[] = [];
  const gapsMs: number[] = [];
  try {
    const store = await NatsStore.connect({ servers: nats.servers });
    stores.push(store);
    const directory = new Directory(store);
    await directory.ready();
    // Some records besides the service looked up, as in a small mesh.
    const regs = [];
    for (let i = 0; i < 30; i++) regs.push(await register(store, { service: `svc${i % 6}`, provider: `p${i}`, addrs: [`tcp!127.0.0.1!${20000 + i}`] }, { ttlMs: 60000, announce: false }));
    const file = path.join(tmp, 'shared.dat');
    procs.push(await startProvider(nats.servers, file), await startProvider(nats.servers, file));
    while ((await directory.lookup('shared')).length < 2) await new Promise((r) => setTimeout(r, 20));

    const lookups = o.lookups ?? 2000;
    log(`directory: ${lookups} warm lookups`);
    let r = await timeEach(lookups, () => directory.lookup('shared'));
    rows.push(row('lookup-warm', r.samples, r.wall));
    log(`directory: ${lookups} cold lookups`);
    r = await timeEach(lookups, () => directory.lookup('shared', { fresh: true }));
    rows.push(row('lookup-cold', r.samples, r.wall));

    const attaches = o.attaches ?? 50;
    log(`directory: ${attaches} first lookups (connect + sync + lookup)`);
    r = await timeEach(attaches, async () => {
      const s = await NatsStore.connect({ servers: nats.servers });
      const d = new Directory(s);
      await d.ready();
      await d.lookup('shared');
      d.close();
      await s.close();
    });
    rows.push(row('lookup-first', r.samples, r.wall));

    log(`directory: ${attaches} attaches by name`);
    r = await timeEach(attaches, async () => {
      const ns = new Namespace({ directory });
      await ns.mount('/n/shared', { service: 'shared' });
      await ns.stat('/n/shared/data');
      await ns.close();
    });
    rows.push(row('attach-by-name', r.samples, r.wall));

    const kills = o.kills ?? 20;
    log(`directory: ${kills} provider kills`);
    for (let k = 0; k < kills; k++) {
      const gaps: FailoverInfo[] = [];
      const ns = new Namespace({ directory, onFailover: (i) => gaps.push(i) });
      try {
        const s = await ns.mount('/n/shared', { service: 'shared' });
        const f = await ns.open('/n/shared/data', ORDWR);
        const victim = procs.find((p) => p.provider === s.provider)!;
        for (let i = 0; i < 200; i++) {
          if (i === 100) victim.proc.kill('SIGKILL');
          const chunk = Buffer.from(`${String(i).padStart(7, '0')}\n`);
          await f.write(i * 8, chunk);
          const back = await f.read(i * 8, 8);
          if (!back.equals(chunk)) throw new Error(`read back ${back.toString()} at ${i * 8}, wrote ${chunk.toString()}`);
        }
        await f.close();
        if (gaps.length !== 1) throw new Error(`kill ${k}: ${gaps.length} failovers`);
        gapsMs.push(gaps[0]!.gapMs);
        procs.splice(procs.indexOf(victim), 1);
        await new Promise<void>((res) => (victim.proc.exitCode !== null || victim.proc.signalCode !== null ? res() : victim.proc.once('exit', () => res())));
        await directory.store.delete('shared', victim.provider);
        procs.push(await startProvider(nats.servers, file));
        while ((await directory.lookup('shared')).length < 2) await new Promise((res) => setTimeout(res, 20));
      } finally {
        await ns.close();
      }
    }
    const gapNs = gapsMs.map((g) => g * 1e6);
    const sorted = [...gapsMs].sort((a, b) => a - b);
    rows.push(row('failover-gap', gapNs, gapNs.reduce((a, b) => a + b, 0) || 1, {
      gap_p50_ms: round(sorted[Math.floor(sorted.length / 2)] ?? 0), gap_max_ms: sorted[sorted.length - 1] ?? 0,
    }));
    for (const g of regs) await g.stop();
    directory.close();
  } finally {
    for (const p of procs) p.proc.kill('SIGKILL');
    for (const s of stores) await s.close();
    await nats.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { rows, gapsMs };
}

/** The suite entry for main.ts. */
export async function directorySuite(a: { iterations?: number }): Promise<{ rows: Row[]; notes: string[] }> {
  const { rows, gapsMs } = await runDirectoryBench({ lookups: a.iterations, log: logLine });
  const p50 = rows.find((r) => r.mode === 'failover-gap')?.gap_p50_ms;
  return {
    rows,
    notes: [
      '',
      `failover gap over ${gapsMs.length} kills (ms): ${gapsMs.join(' ')}`,
      `failover gap p50 ${p50} ms — target < 1000 ms: ${Number(p50) < 1000 ? 'met' : 'NOT met'}`,
      'one nats-server node (JetStream KV, bucket prose_channels); providers: the shared-file fixture over tcp on loopback',
    ],
  };
}

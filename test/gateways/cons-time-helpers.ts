/**
 * Helpers for the cons and time gateway tests: a 9P client session on a service child process,
 * opening paths in any dialect, grpc.health.v1 checks, and a seeded fuzz driver of random
 * walks, opens, reads and ctl writes.
 */
import { Client, type Fid } from '@prose/client';
import { OTRUNC } from '@prose/protocol';
import { rng } from '../support/prng.js';
import { healthStatus } from '../support/health.js';
import type { ServiceProc } from '../support/child.js';

export type Version = '9P2000' | '9P2000.u' | '9P2000.L';

/** A client on `addr` speaking `version`, attached as `uname`. */
export async function connect(addr: string, version: Version, uname = 'glenda'): Promise<{ client: Client; root: Fid }> {
  const client = await Client.connect(addr, { version, timeoutMs: 5000 });
  const root = await client.attach({ uname });
  return { client, root };
}

/** Walks to `path` and opens it with `mode` (0 read, 1 write, 2 both; the same numbers in .L). */
export async function openPath(root: Fid, path: string, mode: number, signal?: AbortSignal): Promise<Fid> {
  const f = await root.walk(path, { signal });
  try {
    return root.client.dialect === '9P2000.L' ? await f.lopen(mode & 3, { signal }) : await f.open(mode, { signal });
  } catch (e) {
    await f.clunk().catch(() => undefined);
    throw e;
  }
}

/** Reads once from an open fid as text. */
export async function readText(f: Fid, count = 8192, signal?: AbortSignal): Promise<string> {
  return (await f.read(0, count, { signal })).toString();
}

/** Writes `s` at offset 0. */
export function writeText(f: Fid, s: string | Buffer): Promise<number> {
  return f.write(0, typeof s === 'string' ? Buffer.from(s) : s);
}

/** True when `p` has not settled within `ms`. */
export function stillPending(p: Promise<unknown>, ms = 50): Promise<boolean> {
  return Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
}

export { healthStatus };

export { rng };

export interface FuzzPlan {
  /** Names random walks are made of (besides "..", numbers and garbage). */
  names: readonly string[];
  /** Paths whose opening is interesting (clone, ctl files...). */
  paths: readonly string[];
  /** Control message words and argument shapes. */
  messages: readonly string[];
}

/**
 * `ops` random operations against a served tree through `root`: walks of random names (valid,
 * "..", numbers, garbage), opens with random modes, reads at random offsets and counts (each
 * given up by Tflush after a few ms if it blocks), writes of random ctl messages and random
 * bytes, and clunks. Every 9P error is expected; what matters is that the service keeps
 * answering. Returns how many operations got a 9P error.
 */
export async function fuzz(root: Fid, plan: FuzzPlan, seed: number, ops: number): Promise<FuzzStats> {
  const r = rng(seed);
  let errors = 0;
  let opens = 0;
  let reads = 0;
  let writes = 0;
  const garbage = () => r.pick(['', '.', '..', 'a/b', '\u0000', 'x'.repeat(300), r.bytes(6).toString('latin1'), String(r.int(40))]);
  const message = (): Buffer => {
    switch (r.int(6)) {
      case 0:
      case 4:
      case 5:
        return Buffer.from(r.pick(plan.messages));
      case 1:
        return Buffer.from(`${r.pick(plan.messages).split(' ')[0]} ${r.pick(['-1', '0', '1', '99999999999999999999', '1.5s', 'x', "'", '10ms', '18446744073709551616'])}`);
      case 2:
        return r.bytes(r.int(64));
      default:
        return Buffer.from(`${r.pick(plan.messages)}\n${r.pick(plan.messages)}`);
    }
  };
  for (let i = 0; i < ops; i++) {
    const fids: Fid[] = [];
    try {
      let path: string[];
      if (r.int(2) === 0) path = r.pick(plan.paths).replace(/\b0\b/, String(r.int(3))).split('/');
      else path = Array.from({ length: 1 + r.int(3) }, () => (r.int(8) === 0 ? garbage() : r.pick(plan.names)));
      const f = await root.walk(path, { signal: AbortSignal.timeout(2000) });
      fids.push(f);
      if (r.int(6) === 0) {
        await f.stat().catch(() => (errors++, undefined));
        continue;
      }
      const mode = r.pick([0, 1, 2, 2, 2, 0 | OTRUNC, 3]);
      const opened = f.client.dialect === '9P2000.L' ? await f.lopen(mode & 3) : await f.open(mode);
      opens++;
      for (let k = r.int(4); k >= 0; k--) {
        const step = r.int(2) === 0
          ? opened.write(r.int(3) === 0 ? r.int(1 << 20) : 0, message()).then(() => writes++)
          : opened.read(r.pick([0, 0, 1, 100, 1 << 30]), r.pick([0, 1, 7, 8, 32, 100, 8192]), { signal: AbortSignal.timeout(5 + r.int(20)) })
            .then(() => reads++);
        await step.catch((e: unknown) => {
          if (!(e instanceof Error) || !('errno' in e)) throw e;
          if (e.name !== 'AbortError') errors++;
        });
      }
    } catch (e) {
      if (!(e instanceof Error) || !('errno' in e)) throw e;
      errors++;
    } finally {
      for (const f of fids) await f.clunk().catch(() => undefined);
    }
  }
  return { ops, errors, opens, reads, writes };
}

/** What a fuzz run did: operations, 9P errors among them, and successful opens, reads, writes. */
export interface FuzzStats {
  ops: number;
  errors: number;
  opens: number;
  reads: number;
  writes: number;
}

/**
 * Fuzzes the service `svc` from one session per entry of `versions` at once (session i with seed
 * `seed + i`), checks every session got past the error paths into opens, reads and writes, and
 * that the service survived: still running, no internal error logged, health SERVING. The
 * sessions' clients go into `clients` for the caller to close.
 */
export async function fuzzSurvives(
  svc: ServiceProc, plan: FuzzPlan, versions: readonly Version[], seed: number, ops: number, clients: Client[],
): Promise<FuzzStats[]> {
  const results = await Promise.all(versions.map(async (version, i) => {
    const s = await connect(svc.addr, version);
    clients.push(s.client);
    return fuzz(s.root, plan, seed + i, ops);
  }));
  for (const r of results) {
    expect(r.errors).toBeGreaterThan(0);
    expect(r.opens).toBeGreaterThan(ops / 40);
    expect(r.reads + r.writes).toBeGreaterThan(ops / 40);
  }
  expect(svc.proc.exitCode).toBeNull();
  expect(svc.stderr()).not.toMatch(/^error:/m);
  expect(await healthStatus(svc.health!)).toBe('SERVING');
  return results;
}

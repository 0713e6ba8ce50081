/**
 * Provider choice: the fastest channel that reaches a provider — shared memory on the same
 * host, then a Unix socket on the same host, then TCP (or TLS) — and among equals the least
 * loaded, then the newest lease.
 */
import * as os from 'node:os';
import type { ProviderRecord } from './record.js';

/** A provider and the address to reach it by. */
export interface Choice {
  record: ProviderRecord;
  addr: string;
  /** 0 shm, 1 unix, 2 tcp, 3 tls (lower is better). */
  rank: number;
}

/** What the chooser knows about the caller. */
export interface ChooseOptions {
  /** The caller's host (default os.hostname()). */
  host?: string;
  /** Transports the caller can dial (default shm, unix, tcp, tls). */
  transports?: readonly string[];
  /** Providers to leave out (e.g. one that just failed). */
  exclude?: ReadonlySet<string>;
}

const RANK: Record<string, number> = { shm: 0, unix: 1, tcp: 2, tls: 3 };
const LOCAL_ONLY = new Set(['shm', 'unix']);

/** The best address of `r` for a caller on `host`, or undefined when none is usable. */
export function bestAddr(r: ProviderRecord, host: string, transports: readonly string[] = Object.keys(RANK)): { addr: string; rank: number } | undefined {
  let best: { addr: string; rank: number } | undefined;
  for (const addr of r.addrs) {
    const net = addr.slice(0, addr.indexOf('!'));
    const rank = RANK[net];
    if (rank === undefined || !transports.includes(net)) continue;
    if (LOCAL_ONLY.has(net) && r.host !== host) continue;
    if (best === undefined || rank < best.rank) best = { addr, rank };
  }
  return best;
}

/** Usable providers of `records`, best first. */
export function choose(records: readonly ProviderRecord[], opts: ChooseOptions = {}): Choice[] {
  const host = opts.host ?? os.hostname();
  const out: Choice[] = [];
  for (const record of records) {
    if (opts.exclude?.has(record.provider)) continue;
    const b = bestAddr(record, host, opts.transports);
    if (b) out.push({ record, addr: b.addr, rank: b.rank });
  }
  return out.sort((a, b) => a.rank - b.rank || a.record.load - b.record.load || b.record.expiresAt - a.record.expiresAt);
}

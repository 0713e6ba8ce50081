/**
 * The provider record: one provider of one service, with every address it answers on and a
 * lease. Records are JSON in the store under `chan.<service>.<provider>`; a record whose lease
 * (`expiresAt`) has passed is dead to readers even while it is still stored.
 */
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';

/** One provider of a service, as stored in the directory. */
export interface ProviderRecord {
  /** Service name, e.g. "time" (letters, digits, "_" and "-"). */
  service: string;
  /** Provider id, unique within the service (same alphabet). */
  provider: string;
  /** Dial strings, one or more per transport: `shm!…`, `unix!/path`, `tcp!host!port`, `tls!…`. */
  addrs: string[];
  /** The host it runs on (shm and unix addresses are only usable there). */
  host: string;
  /** Zone label (rack, availability zone); "" when none. */
  zone: string;
  /** 9P dialects it speaks, e.g. ["9P2000.L", "9P2000.u", "9P2000"]. */
  dialects: string[];
  /** The largest msize it offers. */
  msize: number;
  /** Load, any non-negative number where less is better (sessions, requests in flight). */
  load: number;
  /** When the provider started, ms since the epoch. */
  startedAt: number;
  /** End of the lease, ms since the epoch: readers ignore the record after it. */
  expiresAt: number;
  /** Free-form labels. */
  meta: Record<string, string>;
}

/** What a provider says about itself when it registers; the rest is filled in. */
export interface ProviderInfo {
  service: string;
  /** Default: a fresh id from the host name, pid and random bits. */
  provider?: string;
  addrs: string[];
  host?: string;
  zone?: string;
  dialects?: string[];
  msize?: number;
  load?: number;
  startedAt?: number;
  meta?: Record<string, string>;
}

/** A bad record or name; `code` is stable. */
export class DirectoryError extends Error {
  constructor(
    message: string,
    readonly code: 'EBADNAME' | 'EBADRECORD' | 'ENOPROVIDER' | 'ESTORE' | 'ECLOSED',
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}

const NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** True for names usable as a service or provider id (a NATS subject token and a 9P file name). */
export function isValidName(s: string): boolean {
  return NAME.test(s);
}

/** Throws EBADNAME unless `s` is a valid service or provider name. */
export function checkName(what: string, s: string): void {
  if (!isValidName(s)) throw new DirectoryError(`bad ${what} name ${JSON.stringify(s)}: want [A-Za-z0-9_-]{1,128}`, 'EBADNAME');
}

/** The store key of a provider: `chan.<service>.<provider>`. */
export function recordKey(service: string, provider: string): string {
  return `chan.${service}.${provider}`;
}

/** The service and provider of a store key; undefined when it is not a `chan.` key. */
export function parseKey(key: string): { service: string; provider: string } | undefined {
  const m = /^chan\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(key);
  return m ? { service: m[1]!, provider: m[2]! } : undefined;
}

/** A provider id that is unique in practice: `<host>-<pid>-<6 hex>`, cut to the name alphabet. */
export function newProviderId(host = os.hostname()): string {
  const h = host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'host';
  return `${h}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** The full record of `info` with a lease of `ttlMs` from `now`. Throws on bad names or addresses. */
export function makeRecord(info: ProviderInfo, ttlMs: number, now = Date.now()): ProviderRecord {
  checkName('service', info.service);
  const provider = info.provider ?? newProviderId(info.host);
  checkName('provider', provider);
  if (!Array.isArray(info.addrs) || info.addrs.length === 0) throw new DirectoryError(`${info.service}/${provider}: no addresses`, 'EBADRECORD');
  for (const a of info.addrs) {
    if (typeof a !== 'string' || !/^[a-z]+!\S+$/.test(a)) throw new DirectoryError(`${info.service}/${provider}: bad address ${JSON.stringify(a)}`, 'EBADRECORD');
  }
  return {
    service: info.service,
    provider,
    addrs: [...info.addrs],
    host: info.host ?? os.hostname(),
    zone: info.zone ?? '',
    dialects: info.dialects ?? ['9P2000.L', '9P2000.u', '9P2000'],
    msize: info.msize ?? 8 * 1024 * 1024 + 24,
    load: info.load ?? 0,
    startedAt: info.startedAt ?? now,
    expiresAt: now + ttlMs,
    meta: { ...info.meta },
  };
}

/** Parses a stored record; undefined when it is not a valid one (readers skip such values). */
export function decodeRecord(data: Uint8Array | string): ProviderRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Partial<ProviderRecord>;
  if (typeof r.service !== 'string' || typeof r.provider !== 'string' || !Array.isArray(r.addrs) || typeof r.expiresAt !== 'number') return undefined;
  return {
    service: r.service,
    provider: r.provider,
    addrs: r.addrs.filter((a): a is string => typeof a === 'string'),
    host: typeof r.host === 'string' ? r.host : '',
    zone: typeof r.zone === 'string' ? r.zone : '',
    dialects: Array.isArray(r.dialects) ? r.dialects.filter((d): d is string => typeof d === 'string') : [],
    msize: typeof r.msize === 'number' ? r.msize : 0,
    load: typeof r.load === 'number' ? r.load : 0,
    startedAt: typeof r.startedAt === 'number' ? r.startedAt : 0,
    expiresAt: r.expiresAt,
    meta: typeof r.meta === 'object' && r.meta !== null ? (r.meta as Record<string, string>) : {},
  };
}

/** The JSON bytes of a record. */
export function encodeRecord(r: ProviderRecord): Uint8Array {
  return Buffer.from(JSON.stringify(r));
}

/** True while the record's lease runs. */
export function isLive(r: ProviderRecord, now = Date.now()): boolean {
  return r.expiresAt > now;
}

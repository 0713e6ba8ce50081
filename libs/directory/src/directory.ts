/**
 * The directory over a Store: a live cache fed by the store's watch, readers that honour the
 * lease (`expiresAt`), watches that also report leases running out (`expire`), provider choice,
 * and `register` for providers (put, refresh every ttl/3, delete on stop).
 */
import { Channel } from './channel.js';
import { choose, type Choice, type ChooseOptions } from './choose.js';
import { DirectoryError, checkName, isLive, makeRecord, recordKey, type ProviderInfo, type ProviderRecord } from './record.js';
import type { Announcement, Presence, Store } from './store.js';

/** A change in the directory, as `watch` reports it. */
export interface DirectoryEvent {
  /** put: registered or refreshed after being absent or expired, or changed (addrs, load...); delete: deregistered; expire: lease ran out. */
  kind: 'put' | 'delete' | 'expire';
  service: string;
  provider: string;
  /** The record (absent on delete). */
  record?: ProviderRecord;
  /** When the directory saw it (ms since the epoch). */
  at: number;
  /** A put that only renewed the lease (reported to watches that asked for `refreshes`). */
  refresh?: boolean;
}

export interface DirectoryOptions {
  /** Report lease refreshes that change nothing but `expiresAt` to every watch (default false: only to those asking). */
  refreshEvents?: boolean;
  /** Slack after `expiresAt` before an expire event (default 0 ms). */
  expireSlackMs?: number;
}

interface Cached {
  record: ProviderRecord;
  expired: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Readers' view of a Store. Reads come from a cache kept by one store watch once it has synced
 * (`ready()`), and from the store itself before that. The Directory does not own the store:
 * `close()` stops the watch only.
 */
export class Directory {
  private readonly cache = new Map<string, Cached>();
  private readonly subs = new Map<Channel<DirectoryEvent>, boolean>();
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private readonly feed: AsyncIterableIterator<import('./store.js').StoreEvent>;
  private closed = false;

  constructor(readonly store: Store, private readonly opts: DirectoryOptions = {}) {
    this.feed = store.watch();
    void this.pump();
  }

  /** Resolves once the cache holds the store's current values. */
  ready(): Promise<void> {
    if (this.synced || this.closed) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  private async pump(): Promise<void> {
    try {
      for await (const e of this.feed) {
        if (e.op === 'sync') {
          this.synced = true;
          for (const w of this.syncWaiters.splice(0)) w();
          continue;
        }
        const key = recordKey(e.service, e.provider);
        const old = this.cache.get(key);
        if (e.op === 'delete') {
          if (!old) continue;
          clearTimeout(old.timer);
          this.cache.delete(key);
          this.emit({ kind: 'delete', service: e.service, provider: e.provider, at: Date.now() });
          continue;
        }
        const rec = e.record;
        const now = Date.now();
        const live = isLive(rec, now);
        if (old) clearTimeout(old.timer);
        const c: Cached = { record: rec, expired: !live, timer: undefined };
        this.cache.set(key, c);
        if (live) {
          c.timer = setTimeout(() => this.expire(key, c), rec.expiresAt - now + (this.opts.expireSlackMs ?? 0));
          c.timer.unref();
          const changed = !old || old.expired || !sameButLease(old.record, rec);
          this.emit({ kind: 'put', service: rec.service, provider: rec.provider, record: rec, at: now, ...(changed ? {} : { refresh: true }) });
        } else if (old && !old.expired) {
          this.emit({ kind: 'expire', service: rec.service, provider: rec.provider, record: rec, at: now });
        }
      }
    } catch {
      // The store's watch ended with an error: readers fall back to the store.
    }
    this.synced = false;
  }

  private expire(key: string, c: Cached): void {
    if (this.cache.get(key) !== c || c.expired) return;
    c.expired = true;
    this.emit({ kind: 'expire', service: c.record.service, provider: c.record.provider, record: c.record, at: Date.now() });
  }

  private emit(e: DirectoryEvent): void {
    const all = this.opts.refreshEvents === true;
    for (const [s, refreshes] of this.subs) if (!e.refresh || refreshes || all) s.push(e);
  }

  private async records(service?: string, fresh = false): Promise<ProviderRecord[]> {
    if (this.synced && !fresh) {
      const out: ProviderRecord[] = [];
      for (const c of this.cache.values()) if (service === undefined || c.record.service === service) out.push(c.record);
      return out;
    }
    return this.store.list(service);
  }

  /**
   * Live providers of `service` (lease running), best first for a caller on `opts.host`.
   * `fresh` reads the store rather than the cache.
   */
  async lookup(service: string, opts: ChooseOptions & { fresh?: boolean } = {}): Promise<Choice[]> {
    checkName('service', service);
    const now = Date.now();
    return choose((await this.records(service, opts.fresh)).filter((r) => isLive(r, now)), opts);
  }

  /** The best provider of `service`; throws ENOPROVIDER when none is live and reachable. */
  async pick(service: string, opts: ChooseOptions & { fresh?: boolean } = {}): Promise<Choice> {
    const c = (await this.lookup(service, opts))[0];
    if (!c) throw new DirectoryError(`no provider of ${service}`, 'ENOPROVIDER');
    return c;
  }

  /** Every live record (of `service`, when given), sorted by service then provider. */
  async list(service?: string, opts: { fresh?: boolean; includeExpired?: boolean } = {}): Promise<ProviderRecord[]> {
    const now = Date.now();
    return (await this.records(service, opts.fresh))
      .filter((r) => opts.includeExpired || isLive(r, now))
      .sort((a, b) => a.service.localeCompare(b.service) || a.provider.localeCompare(b.provider));
  }

  /** The names of services with at least one live provider. */
  async services(): Promise<string[]> {
    return [...new Set((await this.list()).map((r) => r.service))].sort();
  }

  /**
   * The cache now, synchronously: live records (of `service`, when given), sorted by service
   * then provider. Empty until `ready()`; for synthetic file trees that list on every read.
   */
  current(service?: string): ProviderRecord[] {
    const now = Date.now();
    const out: ProviderRecord[] = [];
    for (const c of this.cache.values()) {
      if ((service === undefined || c.record.service === service) && isLive(c.record, now)) out.push(c.record);
    }
    return out.sort((a, b) => a.service.localeCompare(b.service) || a.provider.localeCompare(b.provider));
  }

  /** One live record, or undefined. */
  async get(service: string, provider: string): Promise<ProviderRecord | undefined> {
    const c = this.synced ? this.cache.get(recordKey(service, provider))?.record : await this.store.get(service, provider);
    return c && isLive(c) ? c : undefined;
  }

  /**
   * Changes from now on: put (new, back from expiry, or changed), delete, expire. With
   * `initial`, first a put for every live record; with `refreshes`, also the puts that only
   * renew a lease (marked `refresh`). Ends when the iterator is returned or the directory
   * closed; `service` filters.
   */
  watch(opts: { service?: string; initial?: boolean; refreshes?: boolean } = {}): AsyncIterableIterator<DirectoryEvent> {
    const ch = new Channel<DirectoryEvent>();
    if (this.closed) {
      ch.close();
      return ch;
    }
    const filtered = opts.service === undefined ? ch : filterChannel(ch, (e) => e.service === opts.service);
    const start = () => {
      if (ch.closed) return;
      if (opts.initial) {
        const now = Date.now();
        for (const c of this.cache.values()) {
          if (!c.expired && isLive(c.record, now)) ch.push({ kind: 'put', service: c.record.service, provider: c.record.provider, record: c.record, at: now });
        }
      }
      this.subs.set(ch, opts.refreshes === true);
    };
    ch.onClose(() => this.subs.delete(ch));
    if (this.synced) start();
    else void this.ready().then(start);
    return filtered;
  }

  /** Who answers a micro-services ping now (see Store.ping). */
  ping(service?: string, timeoutMs?: number): Promise<Presence[]> {
    return this.store.ping(service, timeoutMs);
  }

  /** Stops the watch and every subscriber. The store stays open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.feed.return?.();
    for (const c of this.cache.values()) clearTimeout(c.timer);
    for (const s of [...this.subs.keys()]) s.close();
    for (const w of this.syncWaiters.splice(0)) w();
  }
}

function sameButLease(a: ProviderRecord, b: ProviderRecord): boolean {
  return JSON.stringify({ ...a, expiresAt: 0 }) === JSON.stringify({ ...b, expiresAt: 0 });
}

function filterChannel<T>(src: Channel<T>, keep: (v: T) => boolean): AsyncIterableIterator<T> {
  const it: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const r = await src.next();
        if (r.done || keep(r.value)) return r;
      }
    },
    return: () => src.return(),
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/** A provider's registration: refreshed until `stop`. */
export interface Registration {
  /** The record as last put. */
  readonly record: ProviderRecord;
  /** Changes fields (load, addrs, meta...) and puts the record now. */
  update(patch: Partial<Omit<ProviderRecord, 'service' | 'provider' | 'expiresAt'>>): Promise<void>;
  /** Stops refreshing, withdraws the announcement and deletes the record. */
  stop(): Promise<void>;
}

export interface RegisterOptions {
  /** Lease length (default 6000 ms); refreshed every ttlMs/3. */
  ttlMs?: number;
  /** Also announce over the NATS micro-services protocol (default true). */
  announce?: boolean;
  /** Failed refreshes (store unreachable) are reported here; the refresh goes on. */
  onError?(err: unknown): void;
}

/**
 * Puts the provider's record (with a lease of ttlMs) and refreshes it every ttlMs/3 until
 * `stop()`, which deletes it. The first put must succeed (it rejects otherwise); later failures
 * go to `onError` and are retried at the next tick. The refresh timer does not keep the process
 * alive.
 */
export async function register(store: Store, info: ProviderInfo, opts: RegisterOptions = {}): Promise<Registration> {
  const ttlMs = opts.ttlMs ?? 6000;
  if (!(ttlMs >= 300)) throw new DirectoryError(`lease ${ttlMs} ms: want at least 300`, 'EBADRECORD');
  let record = makeRecord(info, ttlMs);
  await store.put(record);
  let announcement: Announcement | undefined;
  if (opts.announce !== false) {
    try {
      announcement = await store.announce(record);
    } catch (e) {
      opts.onError?.(e);
    }
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<unknown> = Promise.resolve();
  const refresh = () => {
    record = { ...record, expiresAt: Date.now() + ttlMs };
    const p = store.put(record).catch((e) => opts.onError?.(e));
    inflight = p;
    return p;
  };
  const tick = () => {
    if (stopped) return;
    void refresh().finally(() => {
      if (stopped) return;
      timer = setTimeout(tick, ttlMs / 3);
      timer.unref();
    });
  };
  timer = setTimeout(tick, ttlMs / 3);
  timer.unref();
  return {
    get record() {
      return record;
    },
    async update(patch) {
      record = { ...record, ...patch, service: record.service, provider: record.provider };
      await refresh();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await inflight;
      await announcement?.stop();
      await store.delete(record.service, record.provider).catch((e) => opts.onError?.(e));
    },
  };
}

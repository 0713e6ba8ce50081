/**
 * The embedded store: records in a Map of this process, with revisions, history-free watch and
 * the same lease semantics as the NATS store (readers ignore expired records). Used when no NATS
 * is configured, so that one machine needs nothing else. Records whose lease ended more than
 * `gcMs` ago are deleted, as the NATS bucket's max age would.
 */
import { Channel } from './channel.js';
import { DirectoryError, isLive, recordKey, type ProviderRecord } from './record.js';
import type { Announcement, Presence, Store, StoreEvent } from './store.js';

export interface MemoryStoreOptions {
  /** Delete records this long after their lease ended (default 60000; 0 never). */
  gcMs?: number;
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly records = new Map<string, { record: ProviderRecord; revision: number }>();
  private readonly watchers = new Set<Channel<StoreEvent>>();
  private revision = 0;
  private closed = false;
  private readonly gcTimer: NodeJS.Timeout | undefined;

  constructor(opts: MemoryStoreOptions = {}) {
    const gcMs = opts.gcMs ?? 60000;
    if (gcMs > 0) {
      this.gcTimer = setInterval(() => this.gc(gcMs), Math.max(1000, gcMs / 4));
      this.gcTimer.unref();
    }
  }

  private check(): void {
    if (this.closed) throw new DirectoryError('store closed', 'ECLOSED');
  }

  async put(record: ProviderRecord): Promise<number> {
    this.check();
    const revision = ++this.revision;
    const copy = structuredClone(record);
    this.records.set(recordKey(record.service, record.provider), { record: copy, revision });
    this.emit({ op: 'put', service: record.service, provider: record.provider, record: structuredClone(copy), revision });
    return revision;
  }

  async delete(service: string, provider: string): Promise<void> {
    this.check();
    if (!this.records.delete(recordKey(service, provider))) return;
    this.emit({ op: 'delete', service, provider, revision: ++this.revision });
  }

  async get(service: string, provider: string): Promise<ProviderRecord | undefined> {
    this.check();
    const e = this.records.get(recordKey(service, provider));
    return e && structuredClone(e.record);
  }

  async list(service?: string): Promise<ProviderRecord[]> {
    this.check();
    const out: ProviderRecord[] = [];
    for (const { record } of this.records.values()) if (service === undefined || record.service === service) out.push(structuredClone(record));
    return out;
  }

  watch(): AsyncIterableIterator<StoreEvent> {
    const ch = new Channel<StoreEvent>();
    if (this.closed) {
      ch.close();
      return ch;
    }
    for (const { record, revision } of this.records.values()) {
      ch.push({ op: 'put', service: record.service, provider: record.provider, record: structuredClone(record), revision });
    }
    ch.push({ op: 'sync' });
    this.watchers.add(ch);
    ch.onClose(() => this.watchers.delete(ch));
    return ch;
  }

  async announce(): Promise<Announcement> {
    return { stop: async () => {} };
  }

  async ping(service?: string): Promise<Presence[]> {
    const now = Date.now();
    return (await this.list(service))
      .filter((r) => isLive(r, now))
      .map((r) => ({ service: r.service, provider: r.provider, id: r.provider, version: '0.1.0', metadata: { ...r.meta } }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.gcTimer) clearInterval(this.gcTimer);
    for (const w of [...this.watchers]) w.close();
  }

  private emit(e: StoreEvent): void {
    for (const w of this.watchers) w.push(e);
  }

  private gc(gcMs: number): void {
    const cut = Date.now() - gcMs;
    for (const { record } of [...this.records.values()]) {
      if (record.expiresAt < cut) void this.delete(record.service, record.provider).catch(() => {});
    }
  }
}

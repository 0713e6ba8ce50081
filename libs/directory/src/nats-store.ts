/**
 * The directory in NATS: records in a JetStream KV bucket (history, replicas and max age
 * configurable), keys `chan.<service>.<provider>`, watched with an ordered consumer that is
 * restarted from the last revision seen when it fails, listed without one (stream state, then
 * direct gets); liveness over the NATS micro-services
 * protocol (`$SRV.PING/INFO/STATS`). nats-server 2.9 has no per-key TTL, so the lease is the
 * record's `expiresAt` (see Directory) and the bucket's max age only collects garbage.
 */
import { RequestStrategy, connect, type JetStreamManager, type KV, type KvEntry, type NatsConnection, type QueuedIterator } from 'nats';
import { Channel } from './channel.js';
import { DirectoryError, decodeRecord, encodeRecord, parseKey, recordKey, type ProviderRecord } from './record.js';
import type { Announcement, Presence, Store, StoreEvent } from './store.js';

export interface NatsStoreOptions {
  /** Server URLs (`nats://127.0.0.1:4222`), every seed of a cluster. */
  servers: string | string[];
  /** Bucket name (default "prose_channels"). */
  bucket?: string;
  /** Values kept per key (default 8). */
  history?: number;
  /** Replicas of the bucket (default 1; 3 in a 3-node cluster). */
  replicas?: number;
  /** Bucket max age in ms: garbage collection of records nobody refreshes (default 1 hour; 0 none). */
  maxAgeMs?: number;
  /** Connection name shown by the server. */
  name?: string;
  /** How long to keep trying to reach the servers and open the bucket (default 15000 ms). */
  timeoutMs?: number;
  /** Per-request timeout of JetStream calls (default 2000 ms). */
  requestTimeoutMs?: number;
  /** How long reads (get, list) retry through TIMEOUT and no-responders, e.g. a leader election (default 10000 ms). */
  retryMs?: number;
}

/** Parses `nats://a:4222,nats://b:4223` (or a list) into server URLs. */
export function parseServers(s: string | string[]): string[] {
  const parts = (Array.isArray(s) ? s : [s]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  if (parts.length === 0) throw new DirectoryError('no NATS servers given', 'ESTORE');
  return parts;
}

export class NatsStore implements Store {
  readonly kind = 'nats';
  private closed = false;
  private readonly watchers = new Set<Channel<StoreEvent>>();
  /** Restarts of the running watches, called when the connection moves to another server. */
  private readonly restarts = new Set<() => void>();

  private constructor(
    /** The connection, for callers that want more of NATS. */
    readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    readonly bucket: string,
    private readonly retryMs: number,
  ) {
    // An ordered consumer on a server that died may never notice; start it again on reconnect.
    void (async () => {
      for await (const st of nc.status()) {
        if (st.type === 'reconnect') for (const r of this.restarts) r();
      }
    })().catch(() => {});
  }

  /**
   * Connects (reconnecting forever afterwards) and opens or creates the bucket. Retries until
   * `timeoutMs`, since a fresh cluster needs a moment to elect its JetStream leaders.
   */
  static async connect(opts: NatsStoreOptions): Promise<NatsStore> {
    const servers = parseServers(opts.servers);
    const timeoutMs = opts.timeoutMs ?? 15000;
    const deadline = Date.now() + timeoutMs;
    const bucket = opts.bucket ?? 'prose_channels';
    let nc: NatsConnection | undefined;
    let last: unknown;
    while (nc === undefined) {
      try {
        nc = await connect({
          servers, name: opts.name, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250,
          timeout: Math.max(500, Math.min(5000, deadline - Date.now())), pingInterval: 5000, waitOnFirstConnect: false,
        });
      } catch (e) {
        last = e;
        if (Date.now() > deadline) throw new DirectoryError(`NATS ${servers.join(',')}: ${(e as Error).message}`, 'ESTORE');
        await sleep(200);
      }
    }
    const js = nc.jetstream({ timeout: opts.requestTimeoutMs ?? 2000 });
    for (;;) {
      try {
        const kv = await js.views.kv(bucket, {
          history: opts.history ?? 8,
          replicas: opts.replicas ?? 1,
          ttl: opts.maxAgeMs ?? 3600_000,
        });
        const jsm = await nc.jetstreamManager({ timeout: opts.requestTimeoutMs ?? 2000, checkAPI: false });
        return new NatsStore(nc, kv, jsm, bucket, opts.retryMs ?? 10000);
      } catch (e) {
        last = e;
        if (Date.now() > deadline) {
          await nc.close().catch(() => {});
          throw new DirectoryError(`NATS bucket ${bucket}: ${(last as Error).message}`, 'ESTORE');
        }
        await sleep(250);
      }
    }
  }

  private check(): void {
    if (this.closed) throw new DirectoryError('store closed', 'ECLOSED');
  }

  async put(record: ProviderRecord): Promise<number> {
    this.check();
    return this.kv.put(recordKey(record.service, record.provider), encodeRecord(record));
  }

  async delete(service: string, provider: string): Promise<void> {
    this.check();
    await this.kv.delete(recordKey(service, provider));
  }

  /**
   * Runs a read again while JetStream answers TIMEOUT or "no responders" (a leader being
   * elected after a node loss), up to `retryMs`.
   */
  private async retry<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        const code = (e as { code?: string }).code;
        if ((code !== 'TIMEOUT' && code !== '503') || Date.now() > deadline || this.closed) throw e;
        await sleep(100);
      }
    }
  }

  async get(service: string, provider: string): Promise<ProviderRecord | undefined> {
    this.check();
    const e = await this.retry(() => this.kv.get(recordKey(service, provider)));
    if (e === null || e.operation !== 'PUT') return undefined;
    return decodeRecord(e.value);
  }

  async list(service?: string): Promise<ProviderRecord[]> {
    this.check();
    return this.retry(() => this.listOnce(service));
  }

  /**
   * Every live record under the filter, read without a consumer: the stream's per-subject
   * state names the keys (answered by the stream leader), then each key's last value is fetched
   * (a direct get, which any replica answers). Creating a consumer took from 2 s to over 10 s
   * after a node loss in a 3-node cluster (nats-server 2.9.10) while gets already worked.
   */
  private async listOnce(service?: string): Promise<ProviderRecord[]> {
    const prefix = `$KV.${this.bucket}.`;
    const filter = prefix + (service === undefined ? 'chan.>' : `chan.${service}.*`);
    const si = await this.jsm.streams.info(`KV_${this.bucket}`, { subjects_filter: filter });
    const keys = Object.keys(si.state.subjects ?? {}).map((s) => s.slice(prefix.length)).sort();
    const out: ProviderRecord[] = [];
    for (let i = 0; i < keys.length; i += LIST_GETS_IN_FLIGHT) {
      const entries = await Promise.all(keys.slice(i, i + LIST_GETS_IN_FLIGHT).map((k) => this.kv.get(k)));
      for (const e of entries) {
        if (e === null || e.operation !== 'PUT') continue;
        const r = decodeRecord(e.value);
        if (r) out.push(r);
      }
    }
    return out;
  }

  watch(): AsyncIterableIterator<StoreEvent> {
    const ch = new Channel<StoreEvent>();
    if (this.closed) {
      ch.close();
      return ch;
    }
    this.watchers.add(ch);
    let current: QueuedIterator<KvEntry> | undefined;
    const restart = () => current?.stop();
    this.restarts.add(restart);
    ch.onClose(() => {
      this.watchers.delete(ch);
      this.restarts.delete(restart);
      current?.stop();
    });
    const run = async () => {
      let lastRev = 0;
      let synced = false;
      while (!ch.closed && !this.closed) {
        try {
          const it = await this.kv.watch({
            key: 'chan.>',
            resumeFromRevision: lastRev > 0 ? lastRev + 1 : undefined,
            initializedFn: () => {
              if (!synced) {
                synced = true;
                ch.push({ op: 'sync' });
              }
            },
          });
          current = it;
          if (ch.closed) {
            it.stop();
            break;
          }
          for await (const e of it) {
            if (e.revision <= lastRev) continue;
            lastRev = e.revision;
            const k = parseKey(e.key);
            if (!k) continue;
            if (e.operation === 'PUT') {
              const r = decodeRecord(e.value);
              if (r) ch.push({ op: 'put', service: k.service, provider: k.provider, record: r, revision: e.revision });
            } else {
              ch.push({ op: 'delete', service: k.service, provider: k.provider, revision: e.revision });
            }
          }
        } catch {
          // The consumer could not be made or was lost (server gone, leader moving): retry.
        }
        current = undefined;
        if (!ch.closed && !this.closed) await sleep(100);
      }
      ch.close();
    };
    void run();
    return ch;
  }

  async announce(record: ProviderRecord): Promise<Announcement> {
    this.check();
    const srv = await this.nc.services.add({
      name: record.service,
      version: '0.1.0',
      description: `9P provider ${record.provider}`,
      metadata: { provider: record.provider, addrs: record.addrs.join(' '), host: record.host, zone: record.zone },
    });
    await this.nc.flush();
    return { stop: async () => { await srv.stop().catch(() => {}); } };
  }

  async ping(service?: string, timeoutMs = 500): Promise<Presence[]> {
    this.check();
    const out: Presence[] = [];
    try {
      const it = await this.nc.services.client({ strategy: RequestStrategy.Timer, maxWait: timeoutMs }).ping(service);
      for await (const p of it) {
        const metadata = (p.metadata ?? {}) as Record<string, string>;
        out.push({ service: p.name, provider: metadata.provider ?? p.id, id: p.id, version: p.version, metadata });
      }
    } catch (e) {
      // Nobody subscribed to the ping subject: nobody is up.
      if ((e as { code?: string }).code !== '503') throw e;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.close();
    await this.nc.close().catch(() => {});
  }
}

/** Key reads a list keeps outstanding at once. */
const LIST_GETS_IN_FLIGHT = 32;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A Store that is another process's directory, reached over the registry service's gRPC API:
 * how services and partitions share the registry's embedded store when no NATS is configured
 * (`--registry tcp!host!port`, the registry's gRPC address). Puts are Register calls with the
 * record's remaining lease, so the semantics are the same; the watch lists, then follows the
 * registry's Watch (with refreshes), and after a lost stream lists again, reporting what
 * vanished meanwhile as deletes.
 */
import * as grpc from '@grpc/grpc-js';
import { parseDialString } from '@prose/transport';
import { Channel } from './channel.js';
import { loadRegistryProto, recordFromMsg, recordToMsg, type ProviderMsg } from './proto.js';
import { DirectoryError, isLive, recordKey, type ProviderRecord } from './record.js';
import type { Announcement, Presence, Store, StoreEvent } from './store.js';

type Unary = (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: any) => void) => void;

export class GrpcStore implements Store {
  readonly kind = 'grpc';
  private readonly client: grpc.Client & Record<string, Unary> & { Watch(req: object): grpc.ClientReadableStream<any> };
  private closed = false;
  private readonly watchers = new Set<Channel<StoreEvent>>();

  /** A store at the registry's gRPC address (`tcp!host!port`). No call is made yet. */
  constructor(readonly addr: string, private readonly timeoutMs = 5000) {
    const a = parseDialString(addr);
    if (a.net !== 'tcp') throw new DirectoryError(`registry address ${addr}: want tcp!host!port`, 'ESTORE');
    const pkg = grpc.loadPackageDefinition(loadRegistryProto()) as any;
    const host = a.host.includes(':') ? `[${a.host}]` : a.host;
    this.client = new pkg.prose.v1.Registry(`${host}:${a.port}`, grpc.credentials.createInsecure());
  }

  private call<T>(method: string, req: object): Promise<T> {
    if (this.closed) return Promise.reject(new DirectoryError('store closed', 'ECLOSED'));
    return new Promise((resolve, reject) => {
      this.client[method]!.call(this.client, req, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (!err) return resolve(res as T);
        const code = err.code === grpc.status.INVALID_ARGUMENT ? 'EBADRECORD' : 'ESTORE';
        reject(new DirectoryError(`registry ${this.addr}: ${method}: ${err.details || err.message}`, code));
      });
    });
  }

  async put(record: ProviderRecord): Promise<number> {
    const ttlMs = Math.max(1, Math.round(record.expiresAt - Date.now()));
    await this.call('Register', { provider: recordToMsg(record), ttlMs });
    return 0;
  }

  async delete(service: string, provider: string): Promise<void> {
    await this.call('Deregister', { service, provider });
  }

  async get(service: string, provider: string): Promise<ProviderRecord | undefined> {
    return (await this.list(service)).find((r) => r.provider === provider);
  }

  async list(service?: string): Promise<ProviderRecord[]> {
    const r = await this.call<{ providers: ProviderMsg[] }>('List', { service: service ?? '', includeExpired: true });
    return r.providers.map(recordFromMsg);
  }

  watch(): AsyncIterableIterator<StoreEvent> {
    const ch = new Channel<StoreEvent>();
    if (this.closed) {
      ch.close();
      return ch;
    }
    this.watchers.add(ch);
    let stream: grpc.ClientReadableStream<any> | undefined;
    ch.onClose(() => {
      this.watchers.delete(ch);
      stream?.cancel();
    });
    const known = new Set<string>();
    const run = async () => {
      let synced = false;
      while (!ch.closed && !this.closed) {
        const ended = new Promise<void>((resolve) => {
          const held: any[] = [];
          let listing = true;
          const s = this.client.Watch({ service: '', initial: false, refreshes: true });
          stream = s;
          const forward = (e: any) => {
            const key = recordKey(e.service, e.provider);
            if (e.kind === 'PUT' && e.record) {
              known.add(key);
              ch.push({ op: 'put', service: e.service, provider: e.provider, record: recordFromMsg(e.record), revision: 0 });
            } else if (e.kind === 'DELETE') {
              known.delete(key);
              ch.push({ op: 'delete', service: e.service, provider: e.provider, revision: 0 });
            }
          };
          s.on('data', (e: any) => (listing ? held.push(e) : forward(e)));
          s.on('error', () => resolve());
          s.on('end', () => resolve());
          this.list().then((rs) => {
            const now = new Set<string>();
            for (const r of rs) {
              const key = recordKey(r.service, r.provider);
              now.add(key);
              known.add(key);
              ch.push({ op: 'put', service: r.service, provider: r.provider, record: r, revision: 0 });
            }
            for (const k of [...known]) {
              if (now.has(k)) continue;
              known.delete(k);
              const [, service, provider] = k.split('.');
              ch.push({ op: 'delete', service: service!, provider: provider!, revision: 0 });
            }
            if (!synced) {
              synced = true;
              ch.push({ op: 'sync' });
            }
            listing = false;
            for (const e of held.splice(0)) forward(e);
          }, () => {
            s.cancel();
            resolve();
          });
        });
        await ended;
        stream = undefined;
        if (!ch.closed && !this.closed) await new Promise((r) => setTimeout(r, 250));
      }
      ch.close();
    };
    void run();
    return ch;
  }

  async announce(): Promise<Announcement> {
    return { stop: async () => {} };
  }

  async ping(service?: string): Promise<Presence[]> {
    const now = Date.now();
    return (await this.list(service)).filter((r) => isLive(r, now))
      .map((r) => ({ service: r.service, provider: r.provider, id: r.provider, version: '0.1.0', metadata: { ...r.meta } }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.close();
    this.client.close();
  }
}

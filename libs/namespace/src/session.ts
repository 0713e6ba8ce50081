/**
 * A mounted source: one attach to a provider of a service (chosen in the directory) or to a
 * fixed address, with the fids opened through it. When the provider's connection drops or its
 * lease ends, the session attaches to another provider, walks every open fid back to its path
 * and opens it again with the same mode; requests that are safe to repeat are retried there,
 * the others fail with "provider lost".
 */
// Loading @prose/shm makes shm!/path provider addresses dialable.
import '@prose/shm';
import { Client, Fid, WalkError, type ConnectOptions } from '@prose/client';
import { Errno, MAXWELEM, MsgType, NinepError, OTRUNC, QTAPPEND, QTEXCL, type Qid } from '@prose/protocol';
import type { Directory, DirectoryEvent } from '@prose/directory';
import { NamespaceError } from './errors.js';

/** Where a session attaches: a service by name (through the directory) or one address. */
export type Source = { service: string } | { addr: string };

export interface SessionOptions {
  directory?: Directory;
  /** Makes a Client for an address (default Client.connect(addr, connect)). */
  dial?(addr: string): Promise<Client>;
  connect?: ConnectOptions;
  aname?: string;
  uname?: string;
  /** This host, for provider choice (default os.hostname()). */
  host?: string;
  /** Transports that can be dialled (default unix, tcp). */
  transports?: readonly string[];
  /** How long failover keeps looking for a provider before requests fail (default 10000 ms). */
  failoverTimeoutMs?: number;
  /** After a lease ends, how long a late refresh may still keep the provider (default 250 ms). */
  leaseGraceMs?: number;
  /** Called after each failover with its gap (loss seen → fids reopened) in ms. */
  onFailover?(info: FailoverInfo): void;
}

export interface FailoverInfo {
  source: string;
  from: string | undefined;
  to: string;
  gapMs: number;
  reopened: number;
}

/** An open fid of the name space: re-opened on the new provider after a failover. */
export interface Tracked {
  names: string[];
  mode: number;
  fid: Fid;
  generation: number;
}

function isConnLoss(err: unknown, client: Client): boolean {
  return client.closed || (err instanceof NinepError && err.errno === Errno.ECONNRESET);
}

export class Session {
  client: Client | undefined;
  root: Fid | undefined;
  /** The provider id (by name) or address now attached. */
  provider: string | undefined;
  addr: string | undefined;
  /** Bumped by each attach; fids of older generations are stale. */
  generation = 0;
  failovers = 0;
  private recovering: Promise<void> | undefined;
  private readonly open = new Set<Tracked>();
  private readonly qids = new Map<string, Qid>();
  private readonly lost = new Map<string, number>();
  private watch: AsyncIterableIterator<DirectoryEvent> | undefined;
  private closed = false;
  private lossAt = 0;

  constructor(readonly source: Source, private readonly opts: SessionOptions) {}

  get name(): string {
    return 'service' in this.source ? this.source.service : this.source.addr;
  }

  /** Attaches for the first time; rejects when no provider answers. */
  async start(): Promise<void> {
    if ('service' in this.source) {
      if (!this.opts.directory) throw new NamespaceError(`mount ${this.source.service}: no directory to look services up in`, 'ENOPROVIDER');
      this.watch = this.opts.directory.watch({ service: this.source.service });
      void this.watchLeases(this.watch);
    }
    await this.attachSomewhere(false);
  }

  private async watchLeases(it: AsyncIterableIterator<DirectoryEvent>): Promise<void> {
    try {
      for await (const e of it) {
        if ((e.kind === 'expire' || e.kind === 'delete') && e.provider === this.provider && this.client && !this.client.closed) {
          // The lease ran out while the connection still looks up (a stopped provider): after a
          // grace period for a late refresh, drop it.
          const client = this.client;
          const provider = e.provider;
          const t = setTimeout(() => {
            void this.opts.directory!.get(this.name, provider).then((r) => {
              if (r || client !== this.client || client.closed) return;
              this.lost.set(provider, Date.now());
              client.close();
            }, () => {});
          }, e.kind === 'delete' ? 0 : this.opts.leaseGraceMs ?? 250);
          t.unref();
        }
      }
    } catch {
      // The directory closed.
    }
  }

  private async candidates(): Promise<string[][]> {
    if ('addr' in this.source) return [[this.source.addr, this.source.addr]];
    const now = Date.now();
    for (const [p, t] of this.lost) if (now - t > 30000) this.lost.delete(p);
    const choices = await this.opts.directory!.lookup(this.source.service, {
      host: this.opts.host, transports: this.opts.transports ?? ['unix', 'tcp'],
    });
    // Providers that just failed go last, not out: they may be back.
    const fresh = choices.filter((c) => !this.lost.has(c.record.provider));
    const stale = choices.filter((c) => this.lost.has(c.record.provider));
    return [...fresh, ...stale].map((c) => [c.record.provider, c.addr]);
  }

  private dial(addr: string): Promise<Client> {
    return this.opts.dial ? this.opts.dial(addr) : Client.connect(addr, { timeoutMs: 3000, version: '9P2000.u', ...this.opts.connect });
  }

  /** Finds a provider and attaches (and, on failover, reopens every tracked fid). */
  private async attachSomewhere(reopen: boolean): Promise<void> {
    const deadline = Date.now() + (reopen ? this.opts.failoverTimeoutMs ?? 10000 : 0);
    let last: unknown;
    for (;;) {
      if (this.closed) throw new NamespaceError(`${this.name}: name space closed`, 'ECLOSED');
      let cands: string[][] = [];
      try {
        cands = await this.candidates();
      } catch (e) {
        last = e;
      }
      for (const [provider, addr] of cands) {
        let client: Client | undefined;
        try {
          client = await this.dial(addr!);
          const root = await client.attach({ aname: this.opts.aname, uname: this.opts.uname ?? 'none' });
          const gen = this.generation + 1;
          if (reopen) {
            for (const t of this.open) {
              try {
                const fid = await walkNames(client, root, t.names, undefined);
                await fid.open(t.mode & ~OTRUNC);
                t.fid = fid;
                t.generation = gen;
              } catch (e) {
                if (client.closed) throw e;
                // Not there (or not openable) on this provider: the file stays stale and its
                // requests fail with "provider lost".
              }
            }
          }
          const from = this.provider;
          this.client = client;
          this.root = root;
          this.provider = provider;
          this.addr = addr;
          this.generation = gen;
          this.qids.clear();
          const c = client;
          void c.whenClosed().then(() => {
            if (this.client !== c || this.closed) return;
            this.lost.set(provider!, Date.now());
            this.recover(c).catch(() => {});
          });
          if (reopen) {
            this.failovers++;
            this.opts.onFailover?.({ source: this.name, from, to: provider!, gapMs: Date.now() - this.lossAt, reopened: this.open.size });
          }
          return;
        } catch (e) {
          last = e;
          client?.close();
          if (provider) this.lost.set(provider, Date.now());
        }
      }
      if (Date.now() >= deadline) {
        const why = last instanceof Error ? `: ${last.message}` : '';
        throw new NamespaceError(`no provider of ${this.name} answers${why}`, 'ENOPROVIDER');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for (or starts) the recovery after `client` was lost. */
  private recover(client: Client): Promise<void> {
    if (this.client !== client) return this.recovering ?? Promise.resolve();
    if (!this.recovering) {
      this.lossAt = Date.now();
      client.close();
      this.recovering = this.attachSomewhere(true).finally(() => {
        this.recovering = undefined;
      });
    }
    return this.recovering;
  }

  /**
   * Runs `op` on the current client; on a lost connection, fails over and runs it again when
   * `safe`, else fails with "provider lost" (after starting the failover, so that later
   * requests find a provider).
   */
  async run<T>(what: string, safe: boolean, op: (client: Client, root: Fid) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new NamespaceError(`${this.name}: name space closed`, 'ECLOSED');
      if (this.recovering) await this.recovering;
      const client = this.client!;
      const root = this.root!;
      try {
        return await op(client, root);
      } catch (err) {
        if (!isConnLoss(err, client)) throw err;
        const lost = this.provider;
        const rec = this.recover(client);
        if (!safe) {
          rec.catch(() => {});
          throw new NamespaceError(`provider lost: ${this.name} (${lost ?? '?'}) during ${what}, which is not safe to retry`, 'EPROVIDERLOST');
        }
        await rec;
        if (attempt >= 5) throw new NamespaceError(`provider lost: ${this.name} during ${what}, ${attempt + 1} times`, 'EPROVIDERLOST');
      }
    }
  }

  /** Like run, for a tracked open fid: uses its current Fid. */
  async runFid<T>(t: Tracked, what: string, safe: boolean, op: (fid: Fid) => Promise<T>): Promise<T> {
    return this.run(what, safe, async () => {
      if (t.generation !== this.generation) {
        throw new NamespaceError(`${what}: file ${t.names.join('/')} was not reopened after failover`, 'EPROVIDERLOST');
      }
      return op(t.fid);
    });
  }

  /** Walks from the root to `names`, caching every qid on the way. */
  walk(client: Client, root: Fid, names: readonly string[]): Promise<Fid> {
    return walkNames(client, root, names, this.qids);
  }

  /** The cached qid of a path walked before (relative to the attach), if any. */
  cachedQid(names: readonly string[]): Qid | undefined {
    return this.qids.get(names.join('/'));
  }

  forget(names: readonly string[]): void {
    const k = names.join('/');
    for (const p of [...this.qids.keys()]) if (p === k || p.startsWith(k + '/')) this.qids.delete(p);
  }

  track(names: string[], mode: number, fid: Fid): Tracked {
    const t: Tracked = { names, mode, fid, generation: this.generation };
    this.open.add(t);
    return t;
  }

  untrack(t: Tracked): void {
    this.open.delete(t);
  }

  /** True when writes to `t` are not idempotent (append-only or exclusive files). */
  static isStream(t: Tracked): boolean {
    return (t.fid.qid.type & (QTAPPEND | QTEXCL)) !== 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    void this.watch?.return?.();
    this.client?.close();
  }
}

/**
 * Twalk from `root` to `names` in requests of up to MAXWELEM names, the later ones walking the
 * new fid in place; every qid goes into `cache` under its path. A missing name rejects with a
 * WalkError and leaves no fid behind.
 */
export async function walkNames(client: Client, root: Fid, names: readonly string[], cache: Map<string, Qid> | undefined): Promise<Fid> {
  const newfid = client.allocFid();
  let made = false;
  let qid = root.qid;
  try {
    if (names.length === 0) {
      await client.rpc({ type: MsgType.Twalk, tag: 0, fid: root.fid, newfid, wname: [] });
      made = true;
    }
    for (let i = 0; i < names.length; i += MAXWELEM) {
      const wname = names.slice(i, i + MAXWELEM);
      let wqid: Qid[];
      try {
        const r = await client.rpc({ type: MsgType.Twalk, tag: 0, fid: made ? newfid : root.fid, newfid, wname });
        wqid = r.wqid;
      } catch (err) {
        if (err instanceof NinepError && err.errno !== Errno.ECONNRESET && err.errno !== Errno.EINTR) throw new WalkError(names, i, err.errno, err.ename);
        throw err;
      }
      if (cache) for (let j = 0; j < wqid.length; j++) cache.set(names.slice(0, i + j + 1).join('/'), wqid[j]!);
      if (wqid.length < wname.length) throw new WalkError(names, i + wqid.length);
      made = true;
      qid = wqid[wqid.length - 1]!;
    }
  } catch (err) {
    if (made) await client.rpc({ type: MsgType.Tclunk, tag: 0, fid: newfid }).catch(() => {});
    if (!client.closed) client.releaseFid(newfid);
    throw err;
  }
  return new Fid(client, newfid, qid, names.join('/'));
}

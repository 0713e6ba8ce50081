/**
 * The server: a Srv served on any number of Conns, each its own Session.
 */
import { listen, type Conn, type Listener, type ListenOptions } from '@prose/transport';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options.js';
import { Session, type SessionHost } from './session.js';
import type { Srv } from './srv.js';

/** How Server.close treats requests still running. */
export interface CloseOptions {
  /** How long outstanding requests may take before they are aborted. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * A 9P server: serves a Srv on any number of Conns (`serve`, `listen`), one Session each, and
 * shuts them down gracefully (`close`). A is the type of the Srv's per-fid state (Fid.aux).
 */
export class Server<A = unknown> {
  readonly srv: Srv<A>;
  readonly opts: ResolvedOptions;
  private readonly sessions = new Set<Session>();
  private readonly listeners = new Set<Listener>();
  private closing = false;
  private readonly host: SessionHost;

  /** A server for `srv` (see Srv for the callbacks and their defaults) with `opts`. */
  constructor(srv: Srv<A>, opts: ServerOptions = {}) {
    this.srv = srv;
    this.opts = resolveOptions(opts);
    this.host = { srv, opts: this.opts, gone: (s) => this.sessions.delete(s) };
  }

  /** The sessions being served. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Serves one Conn: a new session starts reading at once (Tversion first). A closing server,
   * or one at `maxSessions`, closes the Conn instead (with a logged reason) and returns undefined.
   */
  serve(conn: Conn): Session | undefined {
    if (this.closing || this.sessions.size >= this.opts.maxSessions) {
      const why = this.closing ? 'server closing' : `too many sessions (${this.opts.maxSessions})`;
      this.opts.logger.warn('connection refused', { remote: conn.remote, reason: why });
      conn.close();
      return undefined;
    }
    const s = new Session(this.host, conn);
    this.sessions.add(s);
    return s;
  }

  /**
   * Listens on a dial string (`tcp!127.0.0.1!0`, `unix!/path`) and serves every connection.
   * `Listener.addr` names the bound address. Rejects with a NinepError.
   */
  async listen(addr: string, opts?: ListenOptions): Promise<Listener> {
    if (this.closing) throw new Error('server closing');
    const l = await listen(addr, (c) => this.serve(c), { maxFrame: this.opts.maxMsize, ...opts });
    this.listeners.add(l);
    return {
      addr: l.addr,
      close: async () => {
        this.listeners.delete(l);
        await l.close();
      },
    };
  }

  /**
   * Stops accepting connections, lets each session's outstanding requests finish (no new ones
   * are read), then closes the sessions and destroys their fids. Requests still running after
   * `timeoutMs` are aborted and their replies dropped. Resolves when everything is down.
   */
  async close(opts: CloseOptions = {}): Promise<void> {
    this.closing = true;
    const timeoutMs = opts.timeoutMs ?? 5000;
    const ls = [...this.listeners];
    this.listeners.clear();
    // A net.Server's close completes only once its connections are gone: start it, then drain.
    const stopped = Promise.all(ls.map((l) => l.close()));
    await Promise.all([...this.sessions].map((s) => s.shutdown(timeoutMs)));
    await stopped;
  }
}

/**
 * A TCP conversation (ip(3) /net/tcp/N): connect or announce through ctl, a byte stream
 * through data with backpressure both ways, calls handed out through listen.
 *
 * Receive: socket chunks go to an Inbound holding at most `bufferBytes`; past that the socket
 * is paused (TCP flow control then slows the peer) and resumed when reads drained it.
 * Send: a data write goes to the socket as is (no copy; a copy when the request's data is lent
 * by the transport, see Req.dataLent) and is answered when the socket took
 * it — at once below the socket's high-water mark, else at its next 'drain'. A write whose
 * request is flushed while it waits for 'drain' is answered "interrupted"; its bytes were
 * already queued and are still sent.
 */
import * as net from 'node:net';
import { Ename, Errno, NinepError } from '@prose/protocol';
import { Waiters, type Cmdtab, type CtlCall } from '@prose/server';
import { canonicalIp, parseHostPort, parsePort } from './addr.js';
import { addrLine, notConnected, notIdle, parseLocal, sockError, type Conv, type ConvState, type NetContext, type ProtoStats } from './conv.js';
import { Inbound } from './inbound.js';
import { resolveTarget } from './resolve.js';

/** Default keepalive interval when `keepalive` is given no argument (ip(3)). */
export const DEFAULT_KEEPALIVE_MS = 30000;
/** How long a hung-up connection may take to finish sending before it is cut. */
const LINGER_MS = 10000;

const noop = (): void => {};

/** Plan 9 tcp state names for the status file. */
function stateName(state: ConvState, peerEnded: boolean): string {
  switch (state) {
    case 'Idle': return 'Closed';
    case 'Connecting': return 'Syn_sent';
    case 'Established': return peerEnded ? 'Close_wait' : 'Established';
    case 'Announced': return 'Listen';
    case 'Hungup': return 'Closed';
  }
}

/** One TCP conversation; see the module comment for its data path. */
export class TcpConv implements Conv<net.Socket> {
  readonly n: number;
  state: ConvState = 'Idle';
  err = '';
  private readonly ctx: NetContext;
  private readonly stats: ProtoStats;
  private sock: net.Socket | undefined;
  private server: net.Server | undefined;
  private readonly inbound: Inbound;
  private readonly drained = new Waiters<void>();
  private readonly callers = new Waiters<void>();
  private calls: net.Socket[] = [];
  private dialing: AbortController | undefined;
  private keepaliveMs: number | undefined;
  private peerEnded = false;
  private laddr: string | undefined;
  private lport: number | undefined;
  private raddr: string | undefined;
  private rport: number | undefined;
  private tx = 0;

  constructor(n: number, ctx: NetContext, stats: ProtoStats) {
    this.n = n;
    this.ctx = ctx;
    this.stats = stats;
    this.inbound = new Inbound({ stream: true, limit: ctx.bufferBytes, onDrain: () => this.sock?.resume() });
  }

  /** connect, announce, hangup, keepalive. */
  commands(): Cmdtab<CtlCall> {
    return [
      { name: 'connect', args: [1, 2], run: ([addr, local], { req }) => this.connect(addr!, local, req.signal) },
      { name: 'announce', args: 1, run: ([addr]) => this.announce(addr!) },
      { name: 'hangup', args: 0, run: () => this.hangup() },
      { name: 'keepalive', args: [0, 1], run: ([ms]) => this.keepalive(ms) },
    ];
  }

  /**
   * `connect host!port [local]`: resolves, checks the policy, and waits until the connection is
   * established (or refused, timed out, flushed). Only on an Idle conversation.
   */
  async connect(spec: string, localSpec: string | undefined, signal?: AbortSignal): Promise<void> {
    if (this.state !== 'Idle') throw notIdle(this, 'connect');
    const local = localSpec === undefined ? undefined : parseLocal(localSpec);
    if (local?.addr !== undefined && canonicalIp(local.addr) === undefined) {
      throw new NinepError(`connect ${spec} ${localSpec}: local address is not an IP address`, Errno.EINVAL);
    }
    this.state = 'Connecting';
    const ac = new AbortController();
    this.dialing = ac;
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const t = await resolveTarget(this.ctx, this.stats, 'connect', spec);
      if (ac.signal.aborted) throw new NinepError(Ename.interrupted, Errno.EINTR);
      const sock = await dial(t.addr, t.port, local, this.ctx.connectTimeoutMs, ac.signal).catch((e) => {
        if (!ac.signal.aborted) this.stats.attemptFails++;
        throw sockError(e, `connect ${spec}`);
      });
      if (this.state !== 'Connecting') {
        sock.destroy();
        throw notConnected(this);
      }
      this.stats.activeOpens++;
      this.established(sock);
    } catch (e) {
      if (this.state === 'Connecting') this.state = 'Idle';
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.dialing = undefined;
    }
  }

  /**
   * `announce port|*|addr!port`: listens on the policy's announce address (an address given
   * must be it, or `*`). Only on an Idle conversation.
   */
  async announce(spec: string): Promise<void> {
    if (this.state !== 'Idle') throw notIdle(this, 'announce');
    let addr: string | undefined;
    let port: number;
    if (spec === '*') port = 0;
    else if (!spec.includes('!')) port = parsePort(spec, spec);
    else {
      const hp = parseHostPort(spec);
      addr = hp.host;
      port = hp.port;
    }
    try {
      this.ctx.policy.checkAnnounce('announce', addr, port);
    } catch (e) {
      this.stats.refused++;
      throw e;
    }
    this.state = 'Connecting';
    const server = net.createServer({ pauseOnConnect: true, noDelay: true });
    server.on('error', (e) => this.ctx.logger.warn('tcp announce: server error', { conv: this.n, reason: e.message }));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.ctx.policy.announceAddr, port, exclusive: true, backlog: this.ctx.backlog }, () => {
          server.off('error', reject);
          resolve();
        });
      }).catch((e) => {
        throw sockError(e, `announce ${spec}`);
      });
      const a = server.address() as net.AddressInfo;
      if (port === 0) {
        try {
          this.ctx.policy.checkAnnouncePort('announce', a.port);
        } catch (e) {
          this.stats.refused++;
          throw e;
        }
      }
      if (this.state !== 'Connecting') throw notConnected(this);
      this.laddr = canonicalIp(a.address) ?? a.address;
      this.lport = a.port;
      this.server = server;
      server.on('connection', (s) => this.incoming(s));
      this.state = 'Announced';
    } catch (e) {
      server.close();
      if (this.state === 'Connecting') this.state = 'Idle';
      throw e;
    }
  }

  private incoming(s: net.Socket): void {
    s.on('error', noop);
    if (this.state !== 'Announced' || this.calls.length >= this.ctx.backlog) {
      this.stats.dropped++;
      s.destroy();
      return;
    }
    this.calls.push(s);
    s.once('close', () => {
      const i = this.calls.indexOf(s);
      if (i >= 0) this.calls.splice(i, 1);
    });
    this.callers.wake();
  }

  /** The next call of an announced conversation; waits for one (until `signal`). */
  async accept(signal: AbortSignal): Promise<net.Socket> {
    for (;;) {
      if (this.state !== 'Announced') throw new NinepError(this.state === 'Hungup' ? 'conversation hung up' : 'listen: not announced', Errno.EINVAL);
      const s = this.calls.shift();
      if (s !== undefined) {
        if (s.destroyed) continue;
        return s;
      }
      await this.callers.wait(signal);
    }
  }

  /** This conversation becomes the accepted call `s`. */
  adopt(s: net.Socket): void {
    this.stats.passiveOpens++;
    this.established(s);
  }

  refuse(s: net.Socket): void {
    this.stats.dropped++;
    s.destroy();
  }

  private established(s: net.Socket): void {
    this.sock = s;
    this.state = 'Established';
    this.laddr = canonicalIp(s.localAddress ?? '') ?? s.localAddress;
    this.lport = s.localPort;
    this.raddr = canonicalIp(s.remoteAddress ?? '') ?? s.remoteAddress;
    this.rport = s.remotePort;
    s.setNoDelay(true);
    if (this.keepaliveMs !== undefined) s.setKeepAlive(true, this.keepaliveMs);
    s.on('data', (b: Buffer) => {
      this.stats.inBytes += b.length;
      if (!this.inbound.push(b)) s.pause();
    });
    s.on('end', () => {
      this.peerEnded = true;
      this.inbound.end();
    });
    s.on('error', (e) => {
      const ne = sockError(e);
      this.err = ne.message;
      this.inbound.fail(ne);
      this.drained.failAll(ne);
    });
    s.on('drain', () => this.drained.wakeAll());
    s.on('close', () => {
      this.inbound.end();
      this.drained.failAll(new NinepError(this.err || 'connection closed', Errno.EPIPE));
    });
    s.resume();
  }

  read(count: number, signal: AbortSignal): Buffer | Promise<Buffer> {
    if (this.state !== 'Established' && this.state !== 'Hungup') throw notConnected(this);
    return this.inbound.read(count, signal);
  }

  write(data: Buffer, signal: AbortSignal, lent = false): number | Promise<number> {
    const s = this.sock;
    if (this.state !== 'Established' || s === undefined) throw notConnected(this);
    if (s.destroyed || s.writableEnded) throw new NinepError(this.err || 'connection closed', Errno.EPIPE);
    if (data.length === 0) return 0;
    this.stats.outBytes += data.length;
    this.tx += data.length;
    // Lent data (a view of a shared-memory slot or of a reused receive buffer) is valid only
    // until this call settles, and the socket may keep what it is given queued past that: it
    // gets a copy. Data the session owns goes as is.
    if (s.write(lent ? Buffer.from(data) : data)) return data.length;
    return this.drained.wait(signal).then(() => data.length);
  }

  /** `keepalive [ms]`: TCP keepalive probes every `ms` (default 30000) of idleness. */
  keepalive(ms: string | undefined): void {
    let v = DEFAULT_KEEPALIVE_MS;
    if (ms !== undefined) {
      if (!/^\d{1,9}$/.test(ms)) throw new NinepError(`keepalive ${ms}: want milliseconds`, Errno.EINVAL);
      v = Number(ms);
    }
    this.keepaliveMs = v;
    this.sock?.setKeepAlive(true, v);
  }

  /** `hangup`: closes the connection (queued bytes are still sent) or stops the announce. */
  hangup(): void {
    const was = this.state;
    this.state = 'Hungup';
    switch (was) {
      case 'Connecting':
        this.dialing?.abort();
        break;
      case 'Established': {
        const s = this.sock!;
        s.end();
        s.resume();
        setTimeout(() => s.destroy(), LINGER_MS).unref();
        break;
      }
      case 'Announced':
        this.stopAnnounce();
        break;
      default:
        break;
    }
    this.inbound.close();
    this.drained.failAll(new NinepError('conversation hung up', Errno.EPIPE));
  }

  private stopAnnounce(): void {
    this.server?.close();
    for (const c of this.calls) c.destroy();
    this.calls = [];
    this.callers.failAll(new NinepError('conversation hung up', Errno.EPIPE));
  }

  close(): void {
    if (this.state !== 'Hungup') this.hangup();
  }

  destroy(): void {
    this.hangup();
    this.sock?.destroy();
    this.server?.close();
  }

  local(): string {
    return addrLine(this.laddr, this.lport);
  }

  remote(): string {
    return addrLine(this.raddr, this.rport);
  }

  /** `<State> qin <held> qout <unsent> rx <bytes> tx <bytes>[ keepalive <ms>]`. */
  status(): string {
    const qout = this.sock?.writableLength ?? 0;
    const ka = this.keepaliveMs !== undefined ? ` keepalive ${this.keepaliveMs}` : '';
    const listen = this.state === 'Announced' ? ` calls ${this.calls.length} listeners ${this.callers.size}` : '';
    return `${stateName(this.state, this.peerEnded)} qin ${this.inbound.length} qout ${qout} rx ${this.inbound.received} tx ${this.tx}${ka}${listen}\n`;
  }
}

/** A TCP connection to addr!port (an IP literal: no name lookup), optionally from `local`. */
function dial(addr: string, port: number, local: { addr?: string; port: number } | undefined, timeoutMs: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: addr, port, localAddress: local?.addr, localPort: local?.port || undefined, noDelay: true });
    const done = (err?: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      s.off('connect', onConnect);
      s.off('error', done);
      if (err === undefined) {
        resolve(s);
        return;
      }
      s.on('error', noop);
      s.destroy();
      reject(err);
    };
    const onConnect = () => done();
    const onAbort = () => done(new NinepError(Ename.interrupted, Errno.EINTR));
    const timer = setTimeout(() => done(NinepError.errno(Errno.ETIMEDOUT)), timeoutMs);
    s.once('connect', onConnect);
    s.once('error', done);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

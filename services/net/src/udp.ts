/**
 * A UDP conversation (ip(3) /net/udp/N). Each data write is one datagram, each read returns
 * one datagram (a short count truncates it; the rest is dropped).
 *
 * - `connect host!port [local]`: datagrams go to host!port; only datagrams from there are read.
 * - `announce port|*`: the conversation owns a local port. Without `headers`, a datagram from
 *   a new peer is a call: `listen` hands out a new conversation for that peer (its first
 *   datagrams already queued), and later datagrams from the peer go to it. With `headers`,
 *   the announced conversation itself reads every datagram.
 * - `headers`: reads and writes carry the 52-byte Udphdr (raddr laddr ifcaddr rport lport);
 *   a write goes to the header's raddr!rport, which the policy must allow unless that peer
 *   has sent to this port before (a reply).
 *
 * Conversations of one port share one dgram socket (`UdpPort`), closed with the last of them.
 */
import * as dgram from 'node:dgram';
import { Errno, NinepError } from '@prose/protocol';
import { Waiters, type Cmdtab, type CtlCall } from '@prose/server';
import { UDPHDR_SIZE, canonicalIp, decodeUdphdr, encodeUdphdr, hostPort, ipFamily, parseHostPort, parsePort } from './addr.js';
import { addrLine, notConnected, notIdle, parseLocal, sockError, type Conv, type ConvState, type NetContext, type ProtoStats } from './conv.js';
import { Inbound } from './inbound.js';
import { resolveTarget } from './resolve.js';

/** Peers remembered per port as "has sent to us" (replies to them skip the connect policy). */
const HEARD_MAX = 4096;
/** Datagrams a not-yet-accepted call holds. */
const CALL_QUEUE = 64;

/** A datagram peer that has not been handed out by listen yet. */
export interface UdpCall {
  port: UdpPort;
  raddr: string;
  rport: number;
  queued: Buffer[];
}

/** One bound dgram socket and the conversations on it. */
export class UdpPort {
  readonly sock: dgram.Socket;
  readonly laddr: string;
  readonly lport: number;
  readonly family: 4 | 6;
  /** The announced conversation taking calls, if any. */
  owner: UdpConv | undefined;
  /** Conversations by peer `addr!port` (connected and accepted ones). */
  readonly peers = new Map<string, UdpConv>();
  /** Calls waiting for listen, by peer. */
  readonly calls = new Map<string, UdpCall>();
  private readonly heard = new Set<string>();
  private refs = 0;
  private readonly stats: ProtoStats;

  private constructor(sock: dgram.Socket, family: 4 | 6, stats: ProtoStats) {
    this.sock = sock;
    this.family = family;
    this.stats = stats;
    const a = sock.address();
    this.laddr = canonicalIp(a.address) ?? a.address;
    this.lport = a.port;
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
  }

  /** Binds a socket of `family` on addr!port (port 0: any). */
  static async bind(family: 4 | 6, addr: string | undefined, port: number, stats: ProtoStats, what: string): Promise<UdpPort> {
    const sock = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr: false });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: addr, port, exclusive: true }, () => {
          sock.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      sock.close();
      throw sockError(e, what);
    }
    sock.on('error', () => {});
    return new UdpPort(sock, family, stats);
  }

  ref(): void {
    this.refs++;
  }

  unref(): void {
    if (--this.refs > 0) return;
    this.calls.clear();
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }

  /** True when `addr!port` has sent to this port. */
  hasHeard(key: string): boolean {
    return this.heard.has(key);
  }

  /** Sends one datagram to addr!port; resolves once the socket took it. */
  send(data: Buffer, addr: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.send(data, port, addr, (err) => (err ? reject(sockError(err, `send to ${hostPort(addr, port)}`)) : resolve()));
    });
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const raddr = canonicalIp(rinfo.address) ?? rinfo.address;
    const key = hostPort(raddr, rinfo.port);
    this.stats.inDatagrams++;
    this.stats.inBytes += msg.length;
    if (this.heard.size >= HEARD_MAX) this.heard.clear();
    this.heard.add(key);
    const conv = this.peers.get(key);
    if (conv !== undefined) {
      conv.deliver(msg, raddr, rinfo.port);
      return;
    }
    const owner = this.owner;
    if (owner === undefined) {
      this.stats.dropped++;
      return;
    }
    if (owner.headers) {
      owner.deliver(msg, raddr, rinfo.port);
      return;
    }
    const call = this.calls.get(key);
    if (call !== undefined) {
      if (call.queued.length < CALL_QUEUE) call.queued.push(msg);
      else this.stats.dropped++;
      return;
    }
    if (this.calls.size >= owner.backlog) {
      this.stats.dropped++;
      return;
    }
    this.calls.set(key, { port: this, raddr, rport: rinfo.port, queued: [msg] });
    owner.callArrived();
  }
}

/** One UDP conversation; see the module comment for connect, announce and headers. */
export class UdpConv implements Conv<UdpCall> {
  readonly n: number;
  state: ConvState = 'Idle';
  err = '';
  /** `headers` mode is on. */
  headers = false;
  private readonly ctx: NetContext;
  private readonly stats: ProtoStats;
  private port: UdpPort | undefined;
  private readonly inbound: Inbound;
  private readonly callers = new Waiters<void>();
  private raddr: string | undefined;
  private rport: number | undefined;
  /** The local address after hangup (local keeps showing it). */
  private laddrGone: string | undefined;
  private lportGone: number | undefined;
  private tx = 0;

  constructor(n: number, ctx: NetContext, stats: ProtoStats) {
    this.n = n;
    this.ctx = ctx;
    this.stats = stats;
    this.inbound = new Inbound({ stream: false, limit: ctx.bufferBytes });
  }

  get backlog(): number {
    return this.ctx.backlog;
  }

  /** connect, announce, headers, hangup. */
  commands(): Cmdtab<CtlCall> {
    return [
      { name: 'connect', args: [1, 2], run: ([addr, local]) => this.connect(addr!, local) },
      { name: 'announce', args: 1, run: ([addr]) => this.announce(addr!) },
      { name: 'headers', args: 0, run: () => void (this.headers = true) },
      { name: 'hangup', args: 0, run: () => this.hangup() },
    ];
  }

  /** `connect host!port [local]`: binds a port (local, or any) and takes host!port as the peer. */
  async connect(spec: string, localSpec: string | undefined): Promise<void> {
    if (this.state !== 'Idle') throw notIdle(this, 'connect');
    const local = localSpec === undefined ? undefined : parseLocal(localSpec);
    this.state = 'Connecting';
    try {
      const t = await resolveTarget(this.ctx, this.stats, 'connect', spec);
      let laddr = local?.addr;
      if (laddr !== undefined) {
        laddr = canonicalIp(laddr);
        if (laddr === undefined) throw new NinepError(`connect ${spec} ${localSpec}: local address is not an IP address`, Errno.EINVAL);
      }
      const port = await UdpPort.bind(ipFamily(t.addr), laddr, local?.port ?? 0, this.stats, `connect ${spec}`);
      if (this.state !== 'Connecting') {
        port.unref();
        throw notConnected(this);
      }
      this.join(port, t.addr, t.port);
      this.stats.activeOpens++;
    } catch (e) {
      if (this.state === 'Connecting') this.state = 'Idle';
      throw e;
    }
  }

  /** `announce port|*|addr!port` on the policy's announce address. */
  async announce(spec: string): Promise<void> {
    if (this.state !== 'Idle') throw notIdle(this, 'announce');
    let addr: string | undefined;
    let portNo: number;
    if (spec === '*') portNo = 0;
    else if (!spec.includes('!')) portNo = parsePort(spec, spec);
    else {
      const hp = parseHostPort(spec);
      addr = hp.host;
      portNo = hp.port;
    }
    const policy = this.ctx.policy;
    try {
      policy.checkAnnounce('announce', addr, portNo);
    } catch (e) {
      this.stats.refused++;
      throw e;
    }
    this.state = 'Connecting';
    let port: UdpPort | undefined;
    try {
      port = await UdpPort.bind(ipFamily(policy.announceAddr), policy.announceAddr, portNo, this.stats, `announce ${spec}`);
      if (portNo === 0) {
        try {
          policy.checkAnnouncePort('announce', port.lport);
        } catch (e) {
          this.stats.refused++;
          throw e;
        }
      }
      if (this.state !== 'Connecting') throw notConnected(this);
      port.ref();
      port.owner = this;
      this.port = port;
      this.state = 'Announced';
    } catch (e) {
      if (port !== undefined && this.port !== port) port.unref();
      if (this.state === 'Connecting') this.state = 'Idle';
      throw e;
    }
  }

  private join(port: UdpPort, raddr: string, rport: number): void {
    port.ref();
    this.port = port;
    this.raddr = raddr;
    this.rport = rport;
    port.peers.set(hostPort(raddr, rport), this);
    this.state = 'Established';
  }

  /** @internal A new peer wrote to the announced port. */
  callArrived(): void {
    this.callers.wake();
  }

  async accept(signal: AbortSignal): Promise<UdpCall> {
    for (;;) {
      const port = this.port;
      if (this.state !== 'Announced' || port === undefined) {
        throw new NinepError(this.state === 'Hungup' ? 'conversation hung up' : 'listen: not announced', Errno.EINVAL);
      }
      if (this.headers) throw new NinepError('listen: a conversation with headers reads every datagram itself', Errno.EINVAL);
      const first = port.calls.entries().next();
      if (!first.done) {
        port.calls.delete(first.value[0]);
        return first.value[1];
      }
      await this.callers.wait(signal);
    }
  }

  adopt(call: UdpCall): void {
    this.join(call.port, call.raddr, call.rport);
    this.stats.passiveOpens++;
    for (const m of call.queued) this.deliver(m, call.raddr, call.rport);
  }

  refuse(_call: UdpCall): void {
    this.stats.dropped++;
  }

  /** @internal A datagram for this conversation. */
  deliver(msg: Buffer, raddr: string, rport: number): void {
    const port = this.port!;
    const b = this.headers
      ? Buffer.concat([encodeUdphdr({ raddr, rport, laddr: port.laddr, lport: port.lport, ifcaddr: port.laddr }), msg])
      : msg;
    if (!this.inbound.push(b)) this.stats.dropped++;
  }

  read(count: number, signal: AbortSignal): Buffer | Promise<Buffer> {
    if (this.state === 'Idle' || this.state === 'Connecting') throw notConnected(this);
    if (this.state === 'Announced' && !this.headers) throw notConnected(this);
    return this.inbound.read(count, signal);
  }

  async write(data: Buffer, _signal: AbortSignal): Promise<number> {
    const port = this.port;
    if (port === undefined || (this.state !== 'Established' && this.state !== 'Announced')) throw notConnected(this);
    let payload = data;
    let addr: string;
    let rport: number;
    if (this.headers) {
      const h = decodeUdphdr(data);
      payload = data.subarray(UDPHDR_SIZE);
      addr = h.raddr;
      rport = h.rport;
      if (!port.hasHeard(hostPort(addr, rport))) {
        try {
          this.ctx.policy.checkConnect('send', addr, rport);
        } catch (e) {
          this.stats.refused++;
          throw e;
        }
      }
      if (port.family === 4 && ipFamily(addr) === 6) {
        throw new NinepError(`send to ${hostPort(addr, rport)}: not an IPv4 address (this port is IPv4)`, Errno.EAFNOSUPPORT);
      }
    } else {
      if (this.state !== 'Established') throw notConnected(this);
      addr = this.raddr!;
      rport = this.rport!;
    }
    await port.send(payload, addr, rport);
    this.stats.outDatagrams++;
    this.stats.outBytes += payload.length;
    this.tx += payload.length;
    return data.length;
  }

  hangup(): void {
    this.state = 'Hungup';
    const port = this.port;
    this.port = undefined;
    if (port !== undefined) {
      if (port.owner === this) {
        port.owner = undefined;
        port.calls.clear();
      }
      const key = this.raddr === undefined ? undefined : hostPort(this.raddr, this.rport!);
      if (key !== undefined && port.peers.get(key) === this) port.peers.delete(key);
      port.unref();
      this.laddrGone = port.laddr;
      this.lportGone = port.lport;
    }
    this.inbound.close();
    this.callers.failAll(new NinepError('conversation hung up', Errno.EPIPE));
  }

  close(): void {
    if (this.state !== 'Hungup') this.hangup();
  }

  destroy(): void {
    this.hangup();
  }

  local(): string {
    return this.port ? addrLine(this.port.laddr, this.port.lport) : addrLine(this.laddrGone, this.lportGone);
  }

  remote(): string {
    return addrLine(this.raddr, this.rport);
  }

  /** `<State> qin <held> dropped <n> rx <bytes> tx <bytes>[ headers]`. */
  status(): string {
    const name = this.state === 'Established' ? 'Open' : this.state === 'Announced' ? 'Announced' : 'Closed';
    return `${name} qin ${this.inbound.length} dropped ${this.inbound.dropped} rx ${this.inbound.received} tx ${this.tx}${this.headers ? ' headers' : ''}\n`;
  }
}

/**
 * What TCP and UDP conversations share: the context they run in (policy, resolver, limits,
 * counters), their states, and the interface the file tree drives them through.
 */
import { Errno, NinepError } from '@prose/protocol';
import type { Cmdtab, CtlCall, Logger } from '@prose/server';
import { hostPort } from './addr.js';
import type { Resolver } from './cs.js';
import type { Policy } from './policy.js';

/**
 * Where a conversation is. Idle → (connect) Connecting → Established; Idle → (announce)
 * Announced; any → (hangup, last close) Hungup, for good. A conversation made by `listen`
 * starts Established.
 */
export type ConvState = 'Idle' | 'Connecting' | 'Established' | 'Announced' | 'Hungup';

/** Counters of one protocol, printed by its `stats` file. */
export class ProtoStats {
  /** Outgoing connects that succeeded. */
  activeOpens = 0;
  /** Calls accepted through listen. */
  passiveOpens = 0;
  /** Outgoing connects that failed (not counting policy refusals). */
  attemptFails = 0;
  /** Operations refused by the access policy. */
  refused = 0;
  /** Incoming calls or datagrams dropped: backlog or buffer full, or no listener. */
  dropped = 0;
  inBytes = 0;
  outBytes = 0;
  inDatagrams = 0;
  outDatagrams = 0;
}

/** What every conversation gets from the gateway. */
export interface NetContext {
  policy: Policy;
  resolver: Resolver;
  /** How long a connect may take. */
  connectTimeoutMs: number;
  /** Bytes a conversation holds for its readers before it pauses its socket (TCP) or drops (UDP). */
  bufferBytes: number;
  /** Calls (TCP) or new peers (UDP) waiting for a listen before more are refused. */
  backlog: number;
  logger: Logger;
}

/** A conversation as the tree sees it (`N/{ctl,data,err,listen,local,remote,status}`). */
export interface Conv<Call = unknown> {
  readonly n: number;
  state: ConvState;
  /** The last error (the `err` file): why data ended, or the last refused ctl message. */
  err: string;
  /** The ctl messages of the conversation. */
  commands(): Cmdtab<CtlCall>;
  /** A `data` read: up to `count` bytes; blocks until some arrive; empty at end of file. */
  read(count: number, signal: AbortSignal): Buffer | Promise<Buffer>;
  /**
   * A `data` write; resolves with the count once the socket has taken it. `lent`: `data` is
   * valid only until the call settles (Req.dataLent), so anything kept past that is a copy.
   */
  write(data: Buffer, signal: AbortSignal, lent?: boolean): number | Promise<number>;
  /** Waits for the next incoming call of an announced conversation (opening `listen`). */
  accept(signal: AbortSignal): Promise<Call>;
  /** Makes this (new) conversation the one of an accepted call. */
  adopt(call: Call): void;
  /** Gives up an accepted call that found no conversation (e.g. too many). */
  refuse(call: Call): void;
  local(): string;
  remote(): string;
  status(): string;
  hangup(): void;
  /** The last file of the conversation was closed: hang up gracefully and let everything go. */
  close(): void;
  /** Service shutdown: drop everything now. */
  destroy(): void;
}

/** "<addr>!<port>\n" of a socket end, or "::!0\n" before there is one (as Plan 9 prints it). */
export function addrLine(addr: string | undefined, port: number | undefined): string {
  return `${hostPort(addr ?? '::', port ?? 0)}\n`;
}

/** The error for data i/o on a conversation that has no peer. */
export function notConnected(c: { state: ConvState }): NinepError {
  if (c.state === 'Hungup') return new NinepError('conversation hung up', Errno.EPIPE);
  if (c.state === 'Announced') return new NinepError('not connected: an announced conversation takes calls through listen', Errno.ENOTCONN);
  return new NinepError('not connected', Errno.ENOTCONN);
}

/** The error for a ctl message that needs a fresh conversation. */
export function notIdle(c: { state: ConvState }, op: string): NinepError {
  const why: Record<ConvState, string> = {
    Idle: '',
    Connecting: 'a connect is in progress',
    Established: 'already connected',
    Announced: 'already announced',
    Hungup: 'conversation hung up',
  };
  return new NinepError(`${op}: ${why[c.state]}`, c.state === 'Hungup' ? Errno.EPIPE : Errno.EISCONN);
}

/**
 * A Node socket error as a NinepError for the 9P side, prefixed with what was being done:
 * "connect 127.0.0.1!9: connection refused" (errno from the fixed Linux table).
 */
export function sockError(e: unknown, what?: string): NinepError {
  if (e instanceof NinepError) return e;
  const ne = NinepError.from(e);
  const text = ne.errno === Errno.EIO && e instanceof Error && e.message ? e.message : ne.ename;
  return new NinepError(what ? `${what}: ${text}` : text, ne.errno);
}

/**
 * Parses the optional `local` argument of connect: a port (`7000`) or `addr!port`.
 * Throws "bad address ..." (EINVAL).
 */
export function parseLocal(s: string): { addr?: string; port: number } {
  if (/^\d+$/.test(s)) {
    const port = Number(s);
    if (port > 65535) throw new NinepError(`bad local address ${JSON.stringify(s)}: bad port`, Errno.EINVAL);
    return { port };
  }
  const bang = s.lastIndexOf('!');
  const p = s.slice(bang + 1);
  if (bang <= 0 || !/^\d{1,5}$/.test(p) || Number(p) > 65535) throw new NinepError(`bad local address ${JSON.stringify(s)}: want port or addr!port`, Errno.EINVAL);
  return { addr: s.slice(0, bang), port: Number(p) };
}

/**
 * One request of a session: the T-message, the fids the framework resolved for it, and the
 * AbortSignal that fires when the client flushes it or the session ends.
 */
import { Errno, Ename, NinepError, type MsgType, type RMessage, type TMessage } from '@prose/protocol';
import type { Fid } from './fid.js';
import type { Session } from './session.js';

/** Converts a callback's result into the R-message (set by an op, called by the session). */
export type PostStep = (s: Session, r: Req, value: unknown) => RMessage;

/** The reason of an aborted request's signal: "interrupted" (EINTR). */
export function interrupted(): NinepError {
  return new NinepError(Ename.interrupted, Errno.EINTR);
}

/**
 * What a Srv callback sees of the request it serves: the T-message (`ifcall`), the session,
 * and `signal`. The framework owns everything else about it.
 */
export class Req<T extends TMessage = TMessage> {
  readonly tag: number;
  readonly type: MsgType;
  /** The T-message as received. */
  readonly ifcall: T;
  readonly session: Session;
  /** The fid of the message (`fid`, `dfid` or `dirfd` field), once looked up and held. */
  fid: Fid | undefined = undefined;
  /** A second fid (`dfid` of Trename, `fid` of Tlink, `newdirfid` of Trenameat), once held. */
  fid2: Fid | undefined = undefined;
  /** The fid a Twalk/Txattrwalk creates, or the afid of Tauth/Tattach. */
  newfid: Fid | undefined = undefined;

  /** @internal The session epoch the request belongs to (a Tversion or hang-up ends it). */
  epoch: number;
  /** @internal The reply (or its discarding) is done. */
  done = false;
  /** @internal The op has finished and dropped its fid references. */
  settled = false;
  /** @internal A Tflush named this request (or the session aborted it). */
  flushed = false;
  /** @internal The Tflushes waiting for this request, in arrival order. */
  flushers: Req[] | undefined = undefined;
  /** @internal Turns the callback's result into the reply. */
  post: PostStep | undefined = undefined;
  /** @internal Arrival order in the session (Rflushes go out in it). */
  seq = 0;
  /** @internal Scratch number for a post step (e.g. the clamped read count). */
  n = 0;
  /** @internal */
  flushTimer: NodeJS.Timeout | undefined = undefined;
  /** @internal Gives back the shared memory the T-message's data is a view of (see Session.settle). */
  release: (() => void) | undefined = undefined;
  /** @internal The transport memory `readBuffer` gave out (see Session.unreserve). */
  reserved: Buffer | undefined = undefined;
  private ac: AbortController | undefined = undefined;

  constructor(session: Session, ifcall: T, epoch: number) {
    this.session = session;
    this.ifcall = ifcall;
    this.tag = ifcall.tag;
    this.type = ifcall.type;
    this.epoch = epoch;
  }

  /**
   * Fires when the request is flushed (flush(5)) or its session resets or ends; its reason is
   * an "interrupted" NinepError, so `signal.throwIfAborted()` fails the request properly. Made
   * on first use: requests that never look at it pay nothing.
   */
  get signal(): AbortSignal {
    if (this.ac === undefined) {
      this.ac = new AbortController();
      if (this.flushed) this.ac.abort(interrupted());
    }
    return this.ac.signal;
  }

  /**
   * For `Srv.read`: a Buffer of `n` bytes to read the data into and return (or a prefix of
   * it, `subarray(0, k)`). Where the transport offers it, it is the transport's memory: on
   * shared memory a slot the client reads in place (the Rread then goes without copying the
   * data), on a socket a reused buffer for big reads (no fresh allocation per reply);
   * elsewhere an ordinary Buffer. It is the transport's again once the request is over (the reply sent,
   * or the request flushed or its session gone, and the callback returned): do not keep it.
   * One per request; a second call gets an ordinary Buffer.
   */
  readBuffer(n: number): Buffer {
    if (this.reserved === undefined && n > 0 && !this.done) {
      const b = this.session.conn.reserve?.(n);
      if (b !== undefined) return (this.reserved = b);
    }
    return Buffer.allocUnsafe(n);
  }

  /**
   * True when `Srv.read` may answer with volatile memory (@prose/transport's volatile.ts: a file
   * mapping only the kernel may read, marked with `markVolatile`): the session's Conn takes such
   * parts, and nothing here reads reply data in user mode (no -D trace).
   */
  get volatileReplies(): boolean {
    return this.session.conn.volatileParts === true && this.session.opts.trace === undefined;
  }

  /**
   * True when this Twrite's data is lent by the transport (a view of shared memory, or of a
   * receive buffer that will be reused): it is valid only until the op settles (see
   * `Srv.write`), so a handler that keeps it longer — queued in a socket, say — keeps a copy.
   */
  get dataLent(): boolean {
    return this.release !== undefined;
  }

  /** True once the request was flushed or its session reset. */
  get aborted(): boolean {
    return this.flushed;
  }

  /** @internal Marks the request flushed and fires its signal. */
  abort(): void {
    if (this.flushed) return;
    this.flushed = true;
    this.ac?.abort(interrupted());
  }
}

/**
 * One 9P session on one Conn: frames in, requests dispatched concurrently, one reply path out.
 *
 * Everything that is the same for every server lives here and in the op modules: version
 * negotiation, the tag table (duplicates, limits, flush bookkeeping), the fid table (references,
 * destruction), error encoding per dialect, the -D trace, and backpressure both ways.
 */
import {
  Ename, Errno, FrameError, IOHDRSZ, MSG_NAMES, MsgType, NOTAG, NinepError, chooseVersion, decode, encodeVec, formatFcall,
  get32, peekHeader, type Dialect, type Fcall, type RMessage, type TMessage, type Tversion,
} from '@prose/protocol';
import type { Conn } from '@prose/transport';
import { srvError } from './enames.js';
import { Fid, FidTable } from './fid.js';
import { OPS } from './ops-table.js';
import { MIN_MSIZE, type Logger, type ResolvedOptions } from './options.js';
import { PENDING, errorReply, isThenable } from './reply.js';
import { Req } from './req.js';
import { TagTable } from './tag-table.js';
import type { Awaitable, Srv } from './srv.js';

const TVERSION = MsgType.Tversion;
const TFLUSH = MsgType.Tflush;
const TWRITE = MsgType.Twrite;

/** Reasons to stop reading from the Conn; reading resumes when none is left. */
const PAUSE_SEND = 1;
const PAUSE_VERSION = 2;
const PAUSE_CLOSING = 4;

const TRACE_OPTS = { maxData: 64 };

let lastSessionId = 0;

function collectFlushers(list: Req[], into: Req[]): void {
  for (const f of list) {
    into.push(f);
    const more = f.flushers;
    if (more !== undefined) {
      f.flushers = undefined;
      collectFlushers(more, into);
    }
  }
}

/** @internal What a session needs from its server. */
export interface SessionHost {
  srv: Srv<any>;
  opts: ResolvedOptions;
  gone(s: Session): void;
}

/**
 * One client connection's 9P session: its negotiated version and msize, its fids and tags.
 * Made by Server.serve; Srv callbacks reach it as `fid.session` or `req.session`.
 */
export class Session {
  /** A number unique in this process, for logs and traces. */
  readonly id: number;
  readonly conn: Conn;
  /** The negotiated dialect; undefined before a successful Tversion. */
  dialect: Dialect | undefined = undefined;
  /** The version string answered in Rversion (with an extension suffix, if one was agreed). */
  version: string | undefined = undefined;
  /** The agreed extension suffix, e.g. "prose.1". */
  extension: string | undefined = undefined;
  /** The negotiated msize (the server's maximum before Tversion). */
  msize: number;
  /** The largest read/write payload: msize - IOHDRSZ. */
  iounit: number;

  /** @internal */
  readonly srv: Srv<any>;
  /** @internal */
  readonly opts: ResolvedOptions;
  /** @internal Bumped by Tversion and hang-up: requests of an older epoch are dead. */
  epoch = 0;
  /** @internal Outstanding requests by tag. */
  readonly tags = new TagTable();
  /** @internal */
  readonly fids: FidTable;

  private readonly host: SessionHost;
  private seq = 0;
  private pauseMask = 0;
  private isClosed = false;
  private idleWaiters: Array<() => void> = [];
  private teardown: Promise<void> | undefined = undefined;
  /** The release of the in-place frame being dispatched (onFrameRef), until a Twrite takes it. */
  private heldRelease: (() => void) | undefined = undefined;

  constructor(host: SessionHost, conn: Conn) {
    this.id = ++lastSessionId;
    this.host = host;
    this.srv = host.srv;
    this.opts = host.opts;
    this.conn = conn;
    this.msize = host.opts.maxMsize;
    this.iounit = this.msize - IOHDRSZ;
    this.fids = new FidTable(host.opts.maxFids);
    conn.setMaxFrame(this.msize);
    conn.start({
      frame: (b) => this.onFrame(b),
      close: (err) => this.onClose(err),
      frameRef: (b, release) => this.onFrameRef(b, release),
    });
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  /** The peer's dial string. */
  get remote(): string {
    return this.conn.remote;
  }

  /** True once the Conn is gone. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Requests received and not yet answered. */
  get outstanding(): number {
    return this.tags.size;
  }

  /** Fids in use. */
  get fidCount(): number {
    return this.fids.size;
  }

  /** Ends the session: pending requests are aborted, fids destroyed. Resolves when done. */
  close(err?: Error): Promise<void> {
    this.conn.close(err);
    return this.teardown ?? Promise.resolve();
  }

  // ---- input -------------------------------------------------------------------------

  /**
   * A frame lent in place: in memory the peer shares (shared-memory transports), or in a
   * receive buffer to be reused (a socket with `lendFrames`). A Twrite keeps it, and so
   * its data stays a view without a copy, until its op is over (`settle`: the handler has
   * returned or its promise settled, also when flushed or the session ended); any other frame
   * is decoded into copies, so its memory is given back at once.
   */
  private onFrameRef(frame: Buffer, release: () => void): void {
    this.heldRelease = release;
    try {
      this.onFrame(frame);
    } finally {
      const rel = this.heldRelease;
      this.heldRelease = undefined;
      if (rel !== undefined) rel();
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.isClosed) return;
    const dialect = this.dialect;
    if (dialect === undefined) {
      const h = peekHeader(frame);
      if (h !== undefined && h.type !== TVERSION) {
        if (this.opts.trace) this.traceRaw(frame);
        this.send(errorReply(h.tag, srvError('noversion'), '9P2000'));
        return;
      }
    }
    const ftype = frame[4]!;
    if (OPS[ftype] === undefined && ftype !== TVERSION) {
      // R-messages, Terror and unknown types: answered without decoding; the session goes on.
      if (this.opts.trace) this.traceRaw(frame);
      this.send(errorReply(frame.readUInt16LE(5), srvError('badmsg'), dialect!));
      return;
    }
    let f: Fcall;
    try {
      f = decode(frame, dialect ?? '9P2000');
    } catch (err) {
      const reason = (err as Error).message;
      this.logger.warn('malformed message: closing session', { session: this.id, remote: this.remote, reason });
      this.conn.close(err as Error);
      return;
    }
    const trace = this.opts.trace;
    if (trace !== undefined) trace(`${this.id} <- ${formatFcall(f, TRACE_OPTS)}`);
    const type = f.type;
    if (type === TVERSION) {
      this.onVersion(f);
      return;
    }
    const tag = f.tag;
    if (type < TVERSION && dialect !== '9P2000.L') {
      this.send(errorReply(tag, srvError('notdialect'), dialect!));
      return;
    }
    const tags = this.tags;
    if (tags.has(tag)) {
      this.send(errorReply(tag, new NinepError(Ename.duptag, Errno.EINVAL), dialect!));
      return;
    }
    const max = this.opts.maxOutstanding;
    if (tags.size >= max && (type !== TFLUSH || tags.size >= 2 * max)) {
      this.send(errorReply(tag, new NinepError(Ename.toomanytags, Errno.EAGAIN), dialect!));
      return;
    }
    const r = new Req(this, f as TMessage, this.epoch);
    r.seq = ++this.seq;
    if (this.heldRelease !== undefined && type === TWRITE) {
      r.release = this.heldRelease;
      this.heldRelease = undefined;
    }
    tags.set(tag, r);
    this.run(r);
  }

  private traceRaw(frame: Buffer): void {
    let text: string;
    try {
      text = formatFcall(decode(frame, '9P2000'), TRACE_OPTS);
    } catch {
      const h = peekHeader(frame)!;
      text = `${MSG_NAMES[h.type] ?? `type${h.type}`} tag ${h.tag} (undecodable)`;
    }
    this.opts.trace!(`${this.id} <- ${text}`);
  }

  private run(r: Req): void {
    let out: unknown;
    try {
      out = OPS[r.type]!(this, r);
    } catch (err) {
      this.fail(r, err);
      return;
    }
    if (out === PENDING) return;
    if (isThenable(out)) {
      out.then((v) => this.guard(r, v, false), (err) => this.guard(r, err, true));
      return;
    }
    this.complete(r, out);
  }

  /**
   * Completes a request from a promise callback. A throw here would be an unhandled rejection
   * (fatal in Node): it can only be a bug of the framework, so it is logged and ends the session.
   */
  private guard(r: Req, v: unknown, failed: boolean): void {
    try {
      if (failed) this.fail(r, v);
      else this.complete(r, v);
    } catch (err) {
      this.logger.error('internal error: closing session', {
        session: this.id, request: MSG_NAMES[r.type], stack: err instanceof Error ? err.stack : String(err),
      });
      this.conn.close(err instanceof Error ? err : new Error(String(err)));
    }
  }

  // ---- the one reply path --------------------------------------------------------------

  /**
   * @internal A request's op produced `v`: turn it into the reply and answer. An op may return
   * (or resolve to) a NinepError instead of throwing it: the same error reply without a throw.
   */
  complete(r: Req, v: unknown): void {
    if (v instanceof NinepError) {
      this.fail(r, v);
      return;
    }
    let reply: RMessage;
    const post = r.post;
    if (post !== undefined) {
      try {
        reply = post(this, r, v);
      } catch (err) {
        this.fail(r, err);
        return;
      }
    } else reply = v as RMessage;
    this.settle(r);
    this.finish(r, reply, false);
  }

  /** @internal A request's op failed: answer with the error in the session's dialect. */
  fail(r: Req, err: unknown): void {
    this.settle(r);
    const reply = errorReply(r.tag, err, this.dialect ?? '9P2000', (e) => this.logUnexpected(r, e));
    this.finish(r, reply, true);
  }

  /**
   * @internal Sends (or discards) a request's reply and then the Rflush of every Tflush that
   * waited for it, in order (flush(5)). The error reply of a flushed request is not sent; a real
   * result is. `reply` undefined discards. Replies of a dead epoch are never sent.
   */
  finish(r: Req, reply: RMessage | undefined, isError: boolean): void {
    if (r.done) return;
    r.done = true;
    if (r.flushTimer !== undefined) clearTimeout(r.flushTimer);
    if (r.epoch !== this.epoch) {
      if (r.reserved !== undefined) this.unreserve(r);
      return;
    }
    const tags = this.tags;
    if (tags.get(r.tag) === r) tags.delete(r.tag);
    if (reply !== undefined && !(isError && r.flushed)) this.send(reply);
    if (r.reserved !== undefined) this.unreserve(r);
    const fl = r.flushers;
    if (fl !== undefined) {
      r.flushers = undefined;
      // Tflushes of this request and of those Tflushes, answered in arrival order.
      const all: Req[] = [];
      collectFlushers(fl, all);
      if (all.length > 1) all.sort((x, y) => x.seq - y.seq);
      for (const f of all) {
        this.settle(f);
        this.finish(f, { type: MsgType.Rflush, tag: f.tag }, false);
      }
    }
    if (tags.size === 0 && this.idleWaiters.length > 0) this.wakeIdle();
  }

  /** @internal True while the request may still commit: not answered and not of a dead epoch. */
  isLive(r: Req): boolean {
    return !r.done && r.epoch === this.epoch;
  }

  /** @internal The op is over: drop the fid references the request held. */
  settle(r: Req): void {
    if (r.settled) return;
    r.settled = true;
    const a = r.fid, b = r.fid2, c = r.newfid;
    r.fid = r.fid2 = r.newfid = undefined;
    if (a !== undefined) this.release(a);
    if (b !== undefined) this.release(b);
    if (c !== undefined) this.release(c);
    const frame = r.release;
    if (frame !== undefined) {
      r.release = undefined;
      frame();
    }
    if (r.reserved !== undefined) this.unreserve(r);
  }

  /**
   * Gives back the transport memory of `r.readBuffer` once both the op is over (nothing writes
   * it) and the reply is sent or dropped (a reply sent with it has taken it already: then this
   * does nothing).
   */
  private unreserve(r: Req): void {
    if (!r.settled || !r.done) return;
    const b = r.reserved!;
    r.reserved = undefined;
    this.conn.unreserve?.(b);
  }

  /** @internal Encodes (in the session's dialect unless told) and sends one R-message, tracing it. */
  send(f: RMessage, dialect: Dialect = this.dialect ?? '9P2000'): void {
    if (this.isClosed) return;
    const trace = this.opts.trace;
    let parts: Buffer[];
    try {
      parts = encodeVec(f, dialect);
      if (get32(parts[0]!, 0) > this.msize) throw srvError('toolarge');
    } catch (err) {
      this.logger.warn('cannot encode reply', { session: this.id, type: MSG_NAMES[f.type], reason: (err as Error).message });
      const io = f.type === MsgType.Rerror || f.type === MsgType.Rlerror;
      f = errorReply(f.tag, io ? new NinepError(Ename.io, Errno.EIO) : err, dialect);
      parts = encodeVec(f, dialect);
    }
    if (trace !== undefined) trace(`${this.id} -> ${formatFcall(f, TRACE_OPTS)}`);
    if (!this.conn.send(parts)) this.onBackpressure();
  }

  private logUnexpected(r: Req, err: unknown): void {
    this.logger.error('unexpected error in handler', {
      session: this.id,
      remote: this.remote,
      request: MSG_NAMES[r.type],
      tag: r.tag,
      stack: err instanceof Error ? err.stack : String(err),
    });
  }

  // ---- fids --------------------------------------------------------------------------

  /** @internal The live fid `n`, held for the request; throws "unknown fid". */
  useFid(n: number): Fid {
    const f = this.fids.get(n);
    if (f === undefined) throw new NinepError(Ename.unknownfid, Errno.EBADF);
    f.refs++;
    return f;
  }

  /**
   * @internal A new fid `n` reserved in the table (not yet usable) and held for the request;
   * throws "duplicate fid" or "too many fids in session". Make it live with `f.live = true`.
   */
  newFid(n: number, uname: string, nUname: number): Fid {
    const f = new Fid(this, n, uname, nUname);
    this.fids.reserve(f);
    f.refs++;
    return f;
  }

  /** @internal A fid outside the table (a walk's newfid == fid, a mapping's scratch fid). */
  tempFid(from: Fid): Fid {
    const f = new Fid(this, from.fid, from.uname, from.nUname);
    f.qid = from.qid;
    f.refs = 1;
    return f;
  }

  /** @internal Takes `f` out of the table; destroyed once no request holds it. */
  unlink(f: Fid): Awaitable<void> {
    if (!this.fids.delete(f)) return;
    return this.release(f);
  }

  /** @internal Drops one reference; the last one destroys the fid. */
  release(f: Fid): Awaitable<void> {
    if (--f.refs > 0 || f.inTable) return;
    return this.destroy(f);
  }

  private destroy(f: Fid): Awaitable<void> {
    if (f.destroyed) return;
    f.destroyed = true;
    const srv = this.srv;
    if (f.rclose && srv.remove !== undefined) {
      f.rclose = false;
      const r = this.internalReq({ type: MsgType.Tremove, tag: NOTAG, fid: f.fid });
      return (async () => {
        try {
          await srv.remove!(f, r);
        } catch (err) {
          this.logger.warn('ORCLOSE remove failed', { session: this.id, fid: f.fid, reason: (err as Error).message });
        }
        await this.destroyHook(f);
      })();
    }
    return this.destroyHook(f);
  }

  private destroyHook(f: Fid): Awaitable<void> {
    const hook = this.srv.destroyfid;
    if (hook === undefined) return;
    try {
      const p = hook.call(this.srv, f);
      if (isThenable(p)) return Promise.resolve(p).catch((err) => this.logHookError('destroyfid', err));
    } catch (err) {
      this.logHookError('destroyfid', err);
    }
  }

  private logHookError(hook: string, err: unknown): void {
    this.logger.error(`${hook} failed`, { session: this.id, stack: err instanceof Error ? err.stack : String(err) });
  }

  /** @internal A request the framework makes up to call a hook outside any T-message. */
  internalReq(ifcall: TMessage): Req {
    return new Req(this, ifcall, this.epoch);
  }

  // ---- version, reset, close ---------------------------------------------------------

  private onVersion(t: Tversion): void {
    this.pause(PAUSE_VERSION);
    const p = this.reset();
    if (p !== undefined) p.then(() => this.answerVersion(t)).catch((err) => this.conn.close(err as Error));
    else this.answerVersion(t);
  }

  private answerVersion(t: Tversion): void {
    if (this.isClosed) return;
    const o = this.opts;
    const choice = chooseVersion(t.version, o.dialects, o.extensions);
    const msize = Math.min(t.msize, o.maxMsize);
    if (choice.dialect !== undefined && msize < MIN_MSIZE) {
      this.send(errorReply(t.tag, new NinepError(Ename.msize, Errno.EINVAL), choice.dialect), choice.dialect);
    } else {
      if (choice.dialect !== undefined) {
        this.dialect = choice.dialect;
        this.version = choice.version;
        this.extension = choice.extension;
        this.msize = msize;
        this.iounit = msize - IOHDRSZ;
      }
      this.send({ type: MsgType.Rversion, tag: t.tag, msize, version: choice.version });
      if (choice.dialect !== undefined) this.conn.setMaxFrame(msize);
    }
    this.resume(PAUSE_VERSION);
  }

  /**
   * Ends the current epoch: every outstanding request is aborted and will never be answered,
   * every fid leaves the table (destroyed now, or when its last request finishes).
   * Resolves when the fids that could be destroyed now are.
   */
  private reset(): Promise<void> | undefined {
    this.epoch++;
    for (const r of this.tags.values()) {
      r.abort();
      if (r.flushTimer !== undefined) clearTimeout(r.flushTimer);
    }
    this.tags.clear();
    this.wakeIdle();
    this.dialect = undefined;
    this.version = undefined;
    this.extension = undefined;
    const waits: PromiseLike<void>[] = [];
    for (const f of this.fids.drain()) {
      const p = this.release(f);
      if (isThenable(p)) waits.push(p);
    }
    return waits.length > 0 ? Promise.all(waits).then(() => undefined) : undefined;
  }

  private onClose(err?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (err) {
      // A frame the transport refused (size < 7 or > msize) is the peer's fault: worth a warning.
      const level = err instanceof FrameError ? 'warn' : 'info';
      this.logger[level]('session closed', { session: this.id, remote: this.remote, reason: err.message });
    }
    const p = this.reset();
    this.teardown = p === undefined ? Promise.resolve() : p;
    this.teardown.then(() => this.host.gone(this));
  }

  /**
   * @internal Graceful end (Server.close): stop reading, let outstanding requests finish (at
   * most `timeoutMs`), then close the Conn and destroy the fids.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (!this.isClosed) {
      this.pause(PAUSE_CLOSING);
      if (this.tags.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
      }
      this.conn.close();
    }
    await this.teardown;
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  // ---- backpressure ------------------------------------------------------------------

  private onBackpressure(): void {
    if (this.pauseMask & PAUSE_SEND) return;
    this.pause(PAUSE_SEND);
    this.conn.drain().then(() => this.resume(PAUSE_SEND));
  }

  private pause(reason: number): void {
    const was = this.pauseMask;
    this.pauseMask |= reason;
    if (was === 0) this.conn.pause();
  }

  private resume(reason: number): void {
    if ((this.pauseMask & reason) === 0) return;
    this.pauseMask &= ~reason;
    if (this.pauseMask === 0 && !this.isClosed) this.conn.resume();
  }
}

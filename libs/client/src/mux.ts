/**
 * The request multiplexer under a Client: tags, the table of outstanding requests, matching
 * replies to them, flush(5) for aborted requests, and failing everything when the Conn goes.
 *
 * Hot-path choices: a reply is matched by indexing an array with its tag; the per-request state
 * is a pooled `Call` object (it is also the AbortSignal listener, through `handleEvent`, so
 * no closure is made for it); the T-message is encoded with `encodeVec`, so a Twrite payload
 * goes to the Conn as the caller's Buffer; a call can resolve with just the field its caller
 * wants (count, data, qid), so simple operations need no second promise.
 */
import {
  decode, encodeVec, Errno, MSG_NAMES, MsgType, NinepError, NOTAG, get16, get32, put16,
  type Dialect, type Fcall,
} from '@prose/protocol';
import { copyFrame, type Conn, type ConnHandler } from '@prose/transport';
import { AbortError, connectionClosed, replyError } from './errors.js';

const RWRITE = MsgType.Rwrite;
const TWRITE = MsgType.Twrite;

/** What a call resolves with: the whole R-message or one field of it. */
export enum Ret { Msg, Void, Count, Data, Qid, DataRef }

/** What a `Ret.DataRef` call resolves with: Rread data, maybe in place, and how to give it back. */
export interface DataRef {
  data: Buffer;
  release: () => void;
}

type Resolve = (v: unknown) => void;
/** An Rwrite frame: size[4] type[1] tag[2] count[4]. */
const RWRITE_SIZE = 11;
type Reject = (e: Error) => void;
const noop = (): void => {};

/** One request in flight (or waiting for a tag), or one Tflush. */
class Call {
  /** The tag on the wire; -1 while waiting for one. */
  tag = -1;
  /** T-message type. */
  type = 0;
  ret: Ret = Ret.Msg;
  /** The caller's promise; both noop once settled (and for Tflush calls). */
  resolve: Resolve = noop;
  reject: Reject = noop;
  settled = true;
  signal: AbortSignal | undefined = undefined;
  /** The encoded message while it waits for a tag. */
  parts: Buffer[] | undefined = undefined;
  /** The Tflush sent for this call, if it was aborted. */
  flush: Call | undefined = undefined;
  /** For a Tflush: the call it flushes. */
  target: Call | undefined = undefined;

  constructor(private readonly mux: Mux) {}

  /** AbortSignal listener (EventTarget calls `handleEvent` on listener objects). */
  handleEvent(): void {
    this.mux.abort(this);
  }
}

/** One Conn's requests: send, match replies by tag, flush, fail on close. */
export class Mux implements ConnHandler {
  /** Codec dialect; plain 9P2000 until version negotiation says otherwise. */
  dialect: Dialect = '9P2000';
  /** Largest message either side may send. */
  msize: number;
  private readonly slots: Array<Call | undefined> = [];
  private readonly freeTags: number[] = [];
  private nextTag = 0;
  private readonly queue: Call[] = [];
  private readonly pool: Call[] = [];
  private versionCall: Call | undefined;
  private closedErr: NinepError | undefined;
  private inFlight = 0;
  private readonly closeWaiters: Array<(err: Error | undefined) => void> = [];
  private closeCause: Error | undefined;
  /** The release of the in-place reply being dispatched (frameRef), until a DataRef call takes it. */
  private heldRelease: (() => void) | undefined = undefined;

  constructor(
    readonly conn: Conn,
    msize: number,
    /** Tags 0..maxTags-1 are used; never NOTAG. */
    private readonly maxTags: number,
  ) {
    this.msize = msize;
    conn.start(this);
  }

  /** Requests sent and not yet answered (Tflush included). */
  get outstanding(): number {
    return this.inFlight;
  }

  get closed(): boolean {
    return this.closedErr !== undefined;
  }

  /** Resolves when the Conn has closed, with the reason (undefined for an orderly close). */
  whenClosed(): Promise<Error | undefined> {
    if (this.closedErr) return Promise.resolve(this.closeCause);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /**
   * Sends a T-message and resolves with its reply (or the field `ret` names). Error replies
   * reject with a NinepError; an abort sends Tflush (see `abort`). The message's own tag is
   * ignored: the frame's tag is patched in after encoding, so `t` is not modified.
   */
  call(t: Fcall, ret: Ret, signal: AbortSignal | undefined): Promise<any> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    let parts: Buffer[];
    try {
      parts = encodeVec(t, this.dialect);
    } catch (err) {
      return Promise.reject(err);
    }
    const size = get32(parts[0]!, 0);
    if (size > this.msize) {
      this.unreserve(parts);
      return Promise.reject(new NinepError(`${MSG_NAMES[t.type]} of ${size} bytes exceeds msize ${this.msize}`, Errno.EMSGSIZE));
    }
    const c = this.pool.pop() ?? new Call(this);
    c.type = t.type;
    c.ret = ret;
    c.settled = false;
    const p = new Promise((resolve: Resolve, reject: Reject) => {
      c.resolve = resolve;
      c.reject = reject;
    });
    if (signal) {
      c.signal = signal;
      signal.addEventListener('abort', c);
    }
    this.post(c, parts);
    return p;
  }

  /** Sends Tversion (tag NOTAG) and resolves with the raw reply, whatever its type. */
  version(msize: number, version: string): Promise<Fcall> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    const c = new Call(this);
    c.type = MsgType.Tversion;
    c.tag = NOTAG;
    c.settled = false;
    this.versionCall = c;
    const p = new Promise<Fcall>((resolve, reject) => {
      c.resolve = resolve as Resolve;
      c.reject = reject;
    });
    this.inFlight++;
    this.conn.send(encodeVec({ type: MsgType.Tversion, tag: NOTAG, msize, version }, this.dialect));
    return p;
  }

  /** Closes the Conn; every pending call rejects with "connection closed". */
  shutdown(err?: Error): void {
    this.conn.close(err);
    this.close(err);
  }

  // ConnHandler

  frame(frame: Buffer): void {
    const tag = get16(frame, 5);
    const c = tag === NOTAG ? this.versionCall : this.slots[tag];
    if (c === undefined) {
      const name = MSG_NAMES[frame[4]!] ?? `type ${frame[4]}`;
      this.shutdown(new NinepError(`protocol botch: ${name} with tag ${tag}, which no request holds`, Errno.EPROTO));
      return;
    }
    if (c.ret === Ret.Count && c.flush === undefined && frame[4] === RWRITE && c.type === TWRITE &&
        frame.length === RWRITE_SIZE && get32(frame, 0) === RWRITE_SIZE) {
      // The common answer of a Twrite: its count is all the caller wants, so no Fcall is made
      // (the frame is exactly size[4] type[1] tag[2] count[4], as decode would check).
      this.settleWith(c, get32(frame, 7));
      this.retire(c);
      return;
    }
    let r: Fcall | undefined;
    let err: NinepError | undefined;
    try {
      r = this.decodeReply(frame, c);
    } catch (e) {
      err = NinepError.from(e);
    }
    if (c === this.versionCall) {
      this.versionCall = undefined;
      this.inFlight--;
      if (r) this.settleWith(c, r);
      else this.fail(c, err!);
      return;
    }
    if (c.target) {
      this.flushed(c);
      return;
    }
    const f = c.flush;
    if (f !== undefined) {
      if (f.tag < 0) {
        // The Tflush never left (no tag was free): the request simply completed.
        this.unqueue(f);
        this.release(f);
        c.flush = undefined;
      } else {
        // flush(5): a reply before the Rflush is honoured; the tag stays ours until the Rflush.
        if (r) this.settle(c, r);
        else this.fail(c, err!);
        return;
      }
    }
    if (r) this.settle(c, r);
    else this.fail(c, err!);
    this.retire(c);
  }

  /**
   * Asked by a transport that lends receive memory it reuses (a socket with `lendFrames`),
   * with a reply's type and tag: lend it, unless it is an Rread or Rreaddir whose data the
   * caller keeps (any call but a `readRef`), which then arrives as a buffer of its own instead
   * of a copy out of the lent memory (see `frameRef`).
   */
  lendable(type: number, tag: number): boolean {
    if (type !== MsgType.Rread && type !== MsgType.Rreaddir) return true;
    const c = this.slots[tag];
    return type === MsgType.Rread && c !== undefined && c.ret === Ret.DataRef && !c.settled;
  }

  /**
   * A reply in memory the peer shares (see ConnHandler.frameRef). The Rread of a call that
   * asked for `Ret.DataRef` resolves with the view and its release, no copy made. Any other
   * Rread or Rreaddir is copied first (its data outlives this call: `read()` stays safe); the
   * rest is decoded into copies, so the memory is given back at once.
   */
  frameRef(frame: Buffer, release: () => void): void {
    const type = frame[4];
    if (type === MsgType.Rread || type === MsgType.Rreaddir) {
      const c = this.slots[get16(frame, 5)];
      if (type !== MsgType.Rread || c === undefined || c.ret !== Ret.DataRef || c.settled) {
        // (copyFrame keeps the frame's address mod 8: a copy out of shared memory is 4x slower unaligned)
        const copy = copyFrame(frame.buffer, frame.byteOffset, frame.length);
        release();
        this.frame(copy);
        return;
      }
    }
    this.heldRelease = release;
    try {
      this.frame(frame);
    } finally {
      const rel = this.heldRelease;
      this.heldRelease = undefined;
      if (rel !== undefined) rel();
    }
  }

  close(err?: Error): void {
    if (this.closedErr) return;
    const e = connectionClosed(err);
    this.closedErr = e;
    this.closeCause = err;
    if (this.versionCall) this.fail(this.versionCall, e);
    this.versionCall = undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const c = this.slots[i];
      if (c) this.fail(c, e);
      this.slots[i] = undefined;
    }
    for (const c of this.queue) this.fail(c, e);
    this.queue.length = 0;
    this.inFlight = 0;
    for (const w of this.closeWaiters.splice(0)) w(err);
  }

  /**
   * The AbortSignal of call `c` fired. Not yet sent: it is dropped and rejects at once. Sent and
   * unanswered: Tflush(oldtag) goes out; the call then ends with whichever comes first, its reply
   * (honoured, as flush(5) requires) or the Rflush (AbortError). Its tag is not reused before the
   * Rflush arrives. Already settled: nothing to do.
   */
  abort(c: Call): void {
    if (c.settled || c.flush || this.closedErr) return;
    if (c.tag < 0) {
      this.unqueue(c);
      if (c.parts !== undefined) this.unreserve(c.parts);
      this.fail(c, new AbortError(c.signal?.reason));
      this.release(c);
      return;
    }
    const f = this.pool.pop() ?? new Call(this);
    f.type = MsgType.Tflush;
    f.ret = Ret.Void;
    f.target = c;
    f.settled = true;
    c.flush = f;
    this.post(f, encodeVec({ type: MsgType.Tflush, tag: 0, oldtag: c.tag }, this.dialect));
  }

  private decodeReply(frame: Buffer, c: Call): Fcall {
    if (frame[4] === MsgType.Rerror && c === this.versionCall) {
      // Before negotiation we do not know whether an Rerror carries .u's errno: try both.
      try {
        return decode(frame, '9P2000.u');
      } catch {
        return decode(frame, '9P2000');
      }
    }
    return decode(frame, this.dialect);
  }

  /** Gives the call a tag and sends it, or queues it until a tag is free. */
  private post(c: Call, parts: Buffer[]): void {
    let tag: number;
    if (this.freeTags.length > 0) tag = this.freeTags.pop()!;
    else if (this.nextTag < this.maxTags) tag = this.nextTag++;
    else {
      c.parts = parts;
      this.queue.push(c);
      return;
    }
    this.transmit(c, tag, parts);
  }

  private transmit(c: Call, tag: number, parts: Buffer[]): void {
    c.tag = tag;
    this.slots[tag] = c;
    this.inFlight++;
    put16(parts[0]!, 5, tag); // (the head is a view: element stores, not a method looked up through its prototype)
    this.conn.send(parts);
  }

  /** The Rflush for Tflush `f` arrived: the flushed call is over and both tags are free. */
  private flushed(f: Call): void {
    const old = f.target!;
    this.retire(f);
    if (!old.settled) this.fail(old, new AbortError(old.signal?.reason));
    this.retire(old);
  }

  private settle(c: Call, r: Fcall): void {
    if (r.type === c.type + 1) {
      this.settleWith(c, this.pick(c.ret, r));
    } else if (r.type === MsgType.Rlerror || r.type === MsgType.Rerror) {
      this.fail(c, replyError(r, this.dialect));
    } else {
      const want = MSG_NAMES[c.type + 1], got = MSG_NAMES[r.type] ?? `type ${r.type}`;
      this.fail(c, new NinepError(`protocol botch: ${got} in reply to ${MSG_NAMES[c.type]} (want ${want})`, Errno.EPROTO));
    }
  }

  private pick(ret: Ret, r: Fcall): unknown {
    switch (ret) {
      case Ret.Msg: return r;
      case Ret.Void: return undefined;
      case Ret.Count: return (r as { count: number }).count;
      case Ret.Data: return (r as { data: Buffer }).data;
      case Ret.Qid: return (r as { qid: unknown }).qid;
      case Ret.DataRef: {
        const release = this.heldRelease ?? noop;
        this.heldRelease = undefined;
        return { data: (r as { data: Buffer }).data, release } satisfies DataRef;
      }
    }
  }

  /** Gives back a payload the caller reserved in the Conn (Fid.writeInPlace) when it will not be sent. */
  private unreserve(parts: Buffer[]): void {
    if (parts.length > 1) this.conn.unreserve?.(parts[parts.length - 1]!);
  }

  private settleWith(c: Call, v: unknown): void {
    if (c.settled) return;
    const resolve = c.resolve;
    this.unlisten(c);
    resolve(v);
  }

  private fail(c: Call, e: Error): void {
    if (c.settled) return;
    const reject = c.reject;
    this.unlisten(c);
    reject(e);
  }

  private unlisten(c: Call): void {
    c.settled = true;
    c.resolve = noop;
    c.reject = noop;
    if (c.signal) {
      c.signal.removeEventListener('abort', c);
      c.signal = undefined;
    }
  }

  /** The call is over on the wire: free its tag (handing it to a waiting call) and recycle it. */
  private retire(c: Call): void {
    const tag = c.tag;
    this.slots[tag] = undefined;
    this.inFlight--;
    this.release(c);
    const next = this.queue.shift();
    if (next) {
      const parts = next.parts!;
      next.parts = undefined;
      this.transmit(next, tag, parts);
    } else {
      this.freeTags.push(tag);
    }
  }

  private unqueue(c: Call): void {
    const i = this.queue.indexOf(c);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private release(c: Call): void {
    if (c.signal) this.unlisten(c);
    c.tag = -1;
    c.parts = undefined;
    c.flush = undefined;
    c.target = undefined;
    c.settled = true;
    if (this.pool.length < 256) this.pool.push(c);
  }
}

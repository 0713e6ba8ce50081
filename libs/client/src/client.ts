/**
 * The 9P client: one Conn, one negotiated version and msize, a tag pool and a fid pool, and a
 * typed API on `Fid` handles.
 */
import * as os from 'node:os';
import {
  Errno, IOHDRSZ, MsgType, NinepError, NOFID, NONUNAME, UNKNOWN_VERSION, VERSION9P, VERSION9PL, VERSION9PU,
  type Dialect, type Fcall,
} from '@prose/protocol';
import { dial, type Conn } from '@prose/transport';
import { AbortError, replyError } from './errors.js';
import { Fid, type DirEntry, type ReadFileOptions, type WriteFileOptions } from './fid.js';
import { FidReadStream, FidWriteStream, type ReadStreamOptions, type WriteStreamOptions } from './io.js';
import { Mux, Ret } from './mux.js';
import type { ReplyTo, Request } from './reply.js';

/** What the client asks for by default: 1 MiB of payload plus the I/O header. */
export const DEFAULT_MSIZE = 1024 * 1024 + IOHDRSZ;
/** The smallest msize the client accepts from a server (Plan 9's devmnt limit). */
export const MIN_MSIZE = 256;

export interface ConnectOptions {
  /** msize to ask for (default DEFAULT_MSIZE); the server's answer, never larger, is adopted. */
  msize?: number;
  /**
   * Version string to ask for: '9P2000', '9P2000.u' or '9P2000.L' (the default), optionally with
   * an extension suffix ('9P2000.L.x'). A server answering a base version of it ('9P2000' to
   * '9P2000.u') is accepted, and the client speaks that dialect.
   */
  version?: '9P2000' | '9P2000.u' | '9P2000.L' | (string & {});
  /** Most requests in flight at once (tags 0..maxTags-1; default and maximum 65535). More wait. */
  maxTags?: number;
  /** Most fids in use at once (default 1<<20): a walk past it fails with EMFILE. */
  maxFids?: number;
  /** gid for .L lcreate/mkdir/symlink/mknod when the call gives none (default: this process's). */
  gid?: number;
  /** Aborts dialing and version negotiation. */
  signal?: AbortSignal;
  /** Give up dialing and negotiating after this many ms (default 10000). */
  timeoutMs?: number;
  /**
   * For a dial string naming a socket (tcp!, unix!): receive into memory that is reused, lending
   * it to `readRef` (default false). A `readRef` Rread is then a view of a pooled buffer until
   * its release, where it would otherwise be a buffer of its own, which for big replies means
   * freshly faulted pages (1 MiB Rreads: 100–600 page faults per 256 MiB instead of
   * 15,000–25,000, 1.3–2 times less client CPU); big replies the caller keeps (`read`,
   * `readdir`) still come without a copy. Off by default: every small reply is then copied out
   * of the reused memory, about 0.14 µs of client CPU per reply (64 B Twrites, 16 in flight:
   * 1.47 against 1.33 µs an op). For streaming readers that use `readRef`. See the transport's
   * `lendFrames`.
   */
  lendFrames?: boolean;
}

/** Options every request takes. */
export interface CallOptions {
  /** Aborting sends Tflush; see `Client.rpc`. */
  signal?: AbortSignal;
}

export interface AttachOptions extends CallOptions {
  /** Default: this process's user name (with its uid as n_uname on .u/.L). */
  uname?: string;
  /** The tree to attach to (default ""). */
  aname?: string;
  /** The fid authenticated with `auth`, if the server wants one. */
  afid?: Fid | number;
  /** .u/.L numeric user; default NONUNAME when `uname` is given, else this process's uid. */
  nUname?: number;
}

/** The dialect a version string builds on: '9P2000.L.x' → '9P2000.L'; undefined if none. */
export function baseDialect(version: string): Dialect | undefined {
  for (const d of [VERSION9PL, VERSION9PU, VERSION9P] as const) {
    if (version === d || version.startsWith(d + '.')) return d;
  }
  return undefined;
}

function processUser(): { uname: string; uid: number } {
  try {
    const u = os.userInfo();
    return { uname: u.username, uid: u.uid >= 0 ? u.uid : NONUNAME };
  } catch {
    return { uname: 'none', uid: NONUNAME };
  }
}

/**
 * A 9P client over one Conn. Made by `Client.connect`, which has negotiated version and msize.
 * Requests are pipelined: any number (up to `maxTags`) may be outstanding, replies are matched by
 * tag in whatever order they come. Every error reply rejects with a NinepError carrying the
 * errno; when the Conn closes, every pending and later call rejects with "connection closed"
 * (ECONNRESET).
 */
export class Client {
  /** The tree of the first attach: what the path helpers (`readFile`, ...) start from. */
  root: Fid | undefined;
  /** The version string the server answered, e.g. "9P2000.L". */
  readonly version: string;
  /** gid given to .L creates by default. */
  readonly gid: number;
  /** Set when the server answered EOPNOTSUPP/ENOSYS to Trenameat / Tunlinkat (see Fid). */
  noRenameat = false;
  noUnlinkat = false;
  private readonly mux: Mux;
  private readonly freeFids: number[] = [];
  private nextFid = 0;
  private readonly maxFids: number;

  private constructor(mux: Mux, version: string, opts: ConnectOptions) {
    this.mux = mux;
    this.version = version;
    this.gid = opts.gid ?? (typeof process.getgid === 'function' ? process.getgid() : 0);
    this.maxFids = Math.min(opts.maxFids ?? 1 << 20, NOFID);
  }

  /**
   * Connects over `target` (a Conn, or a dial string such as `tcp!127.0.0.1!564` or
   * `unix!/run/9p.sock`) and negotiates with Tversion: asks for `msize` and `version`, adopts the
   * server's msize (sets the Conn's largest frame to it) and dialect. Rejects with a NinepError
   * when the server answers "unknown" (EPROTONOSUPPORT), an error, a version that is not the one
   * asked or a base of it, or an msize above the one asked or below MIN_MSIZE (EPROTO). On
   * failure the Conn is closed: the client owns it from the call on.
   */
  static async connect(target: Conn | string, opts: ConnectOptions = {}): Promise<Client> {
    const msize = opts.msize ?? DEFAULT_MSIZE;
    const asked = opts.version ?? VERSION9PL;
    const maxTags = opts.maxTags ?? 0xffff;
    if (!baseDialect(asked)) throw new NinepError(`version "${asked}" is not 9P2000, 9P2000.u or 9P2000.L`, Errno.EINVAL);
    if (!Number.isInteger(msize) || msize < MIN_MSIZE || msize > 0xffffffff) {
      throw new NinepError(`msize ${msize} outside ${MIN_MSIZE}..2^32-1`, Errno.EINVAL);
    }
    if (!Number.isInteger(maxTags) || maxTags < 1 || maxTags > 0xffff) {
      throw new NinepError(`maxTags ${maxTags} outside 1..65535`, Errno.EINVAL);
    }
    const timeoutMs = opts.timeoutMs ?? 10000;
    const conn = typeof target === 'string'
      ? await dial(target, { timeoutMs, signal: opts.signal, maxFrame: msize, lendFrames: opts.lendFrames })
      : target;
    conn.setMaxFrame(msize);
    const mux = new Mux(conn, msize, maxTags);
    let why: Error | undefined;
    const stop = (e: Error) => {
      why = e;
      mux.shutdown(e);
    };
    const onAbort = () => stop(new AbortError(opts.signal?.reason));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort);
    const timer = setTimeout(() => stop(new NinepError(`version: no answer in ${timeoutMs} ms`, Errno.ETIMEDOUT)), timeoutMs);
    try {
      const r = await mux.version(msize, asked);
      const answer = negotiated(r, asked, msize);
      mux.msize = r.type === MsgType.Rversion ? r.msize : msize;
      mux.dialect = answer.dialect;
      conn.setMaxFrame(mux.msize);
      return new Client(mux, answer.version, opts);
    } catch (err) {
      mux.shutdown();
      throw why ?? err;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The Conn under the client. */
  get conn(): Conn {
    return this.mux.conn;
  }

  /** The negotiated msize: the largest message either side sends. */
  get msize(): number {
    return this.mux.msize;
  }

  /** The codec dialect of the session. */
  get dialect(): Dialect {
    return this.mux.dialect;
  }

  /** The largest read/write payload one message carries: msize - IOHDRSZ. */
  get maxIo(): number {
    return this.mux.msize - IOHDRSZ;
  }

  /** Requests on the wire and not yet answered. */
  get outstanding(): number {
    return this.mux.outstanding;
  }

  get closed(): boolean {
    return this.mux.closed;
  }

  /** Resolves when the Conn is gone, with the error that closed it (undefined: orderly close). */
  whenClosed(): Promise<Error | undefined> {
    return this.mux.whenClosed();
  }

  /** Closes the Conn. Pending calls reject with "connection closed". Idempotent. */
  close(): void {
    this.mux.shutdown();
  }

  /**
   * Sends any T-message and resolves with its R-message. The client assigns the tag. An
   * Rerror/Rlerror rejects with a NinepError (9P2000: errno from the text; .u: its errno; .L:
   * its ecode). Fids in `t` are the caller's business: use `allocFid`/`releaseFid` if mixing raw
   * calls with Fid handles.
   *
   * Abort (flush(5)): when `signal` fires after the request went out, Tflush(oldtag) is sent.
   * If the reply arrives before the Rflush it is honoured — the call resolves with it, and what
   * it did (a fid a walk made, a file a create made) stands. If only the Rflush arrives the call
   * rejects with AbortError (code EINTR). The old tag is not reused until the Rflush has come.
   * A request still waiting for a free tag is dropped without a Tflush.
   * Tversion is refused (EINVAL): it would reset the session under the client; see `connect`.
   */
  rpc<T extends Request>(t: T, opts?: CallOptions): Promise<ReplyTo[T['type']]> {
    if (t.type === MsgType.Tversion) return Promise.reject(new NinepError('Tversion belongs to Client.connect', Errno.EINVAL));
    return this.mux.call(t as unknown as Fcall, Ret.Msg, opts?.signal);
  }

  /** @internal The request path of Fid: resolves with the field `ret` names. */
  call(t: Fcall, ret: Ret, signal: AbortSignal | undefined): Promise<any> {
    return this.mux.call(t, ret, signal);
  }

  /**
   * A fid number not in use; recycled numbers first. Throws EMFILE past `maxFids`. The caller
   * must `releaseFid` it once the server no longer holds it (after Rclunk/Rremove, or a failed
   * walk/attach/auth that would have made it).
   */
  allocFid(): number {
    const n = this.freeFids.pop();
    if (n !== undefined) return n;
    if (this.nextFid >= this.maxFids) throw new NinepError(`too many fids (${this.maxFids})`, Errno.EMFILE);
    return this.nextFid++;
  }

  /** Returns a fid number to the pool. */
  releaseFid(fid: number): void {
    this.freeFids.push(fid);
  }

  /**
   * Tattach: a Fid for the root of tree `aname` as user `uname`. The first attach also becomes
   * `client.root`, which the path helpers walk from.
   */
  async attach(opts: AttachOptions = {}): Promise<Fid> {
    let { uname, nUname } = opts;
    if (uname === undefined) {
      const me = processUser();
      uname = me.uname;
      nUname ??= me.uid;
    }
    const afid = opts.afid === undefined ? NOFID : typeof opts.afid === 'number' ? opts.afid : opts.afid.fid;
    const fid = this.allocFid();
    try {
      const qid = await this.mux.call(
        { type: MsgType.Tattach, tag: 0, fid, afid, uname, aname: opts.aname ?? '', nUname: nUname ?? NONUNAME },
        Ret.Qid, opts.signal,
      );
      const f = new Fid(this, fid, qid, '');
      this.root ??= f;
      return f;
    } catch (err) {
      this.releaseFid(fid);
      throw err;
    }
  }

  /**
   * Tauth: a Fid for the authentication file (aqid); read and write it per the server's auth
   * protocol, then pass it as `afid` to `attach`. Servers without auth answer an error.
   */
  async auth(opts: Omit<AttachOptions, 'afid'> = {}): Promise<Fid> {
    let { uname, nUname } = opts;
    if (uname === undefined) {
      const me = processUser();
      uname = me.uname;
      nUname ??= me.uid;
    }
    const afid = this.allocFid();
    try {
      const r = await this.mux.call(
        { type: MsgType.Tauth, tag: 0, afid, uname, aname: opts.aname ?? '', nUname: nUname ?? NONUNAME },
        Ret.Msg, opts.signal,
      );
      return new Fid(this, afid, r.aqid, '');
    } catch (err) {
      this.releaseFid(afid);
      throw err;
    }
  }

  private get top(): Fid {
    if (!this.root) throw new NinepError('not attached: call attach() first', Errno.EBADF);
    return this.root;
  }

  /** `root.walk(path)`: a new Fid for `path` under the root. */
  walk(path: string | readonly string[], opts?: CallOptions): Promise<Fid> {
    return this.top.walk(path, opts);
  }

  /** `root.readFile(path)`: the whole file, read with several requests in flight. */
  readFile(path: string, opts?: ReadFileOptions): Promise<Buffer> {
    return this.top.readFile(path, opts);
  }

  /** `root.writeFile(path, data)`: creates or truncates the file and writes all of `data`. */
  writeFile(path: string, data: Uint8Array | string, opts?: WriteFileOptions): Promise<void> {
    return this.top.writeFile(path, data, opts);
  }

  /** `root.list(path)`: the entries of a directory, without "." and "..". */
  list(path = '', opts?: CallOptions): Promise<DirEntry[]> {
    return this.top.list(path, opts);
  }

  /** A Readable of the file at `path` (opened now, clunked when the stream ends or is destroyed). */
  createReadStream(path: string, opts: Omit<ReadStreamOptions, 'autoClunk'> = {}): FidReadStream {
    return new FidReadStream(this.top.openFile(path, 'r'), { ...opts, autoClunk: true });
  }

  /** A Writable to the file at `path` (created or truncated; clunked when finished or destroyed). */
  createWriteStream(path: string, opts: Omit<WriteStreamOptions, 'autoClunk'> & { mode?: number } = {}): FidWriteStream {
    return new FidWriteStream(this.top.openFile(path, 'w', { mode: opts.mode }), { ...opts, autoClunk: true });
  }
}

/** Checks a Tversion reply against what was asked. */
function negotiated(r: Fcall, asked: string, msize: number): { version: string; dialect: Dialect } {
  if (r.type === MsgType.Rlerror || r.type === MsgType.Rerror) {
    const e = replyError(r, r.type === MsgType.Rlerror ? VERSION9PL : VERSION9PU);
    throw new NinepError(`version ${asked} refused: ${e.ename}`, e.errno);
  }
  if (r.type !== MsgType.Rversion) throw new NinepError(`protocol botch: type ${r.type} in reply to Tversion`, Errno.EPROTO);
  if (r.version === UNKNOWN_VERSION) {
    throw new NinepError(`version ${asked} refused: server answered "unknown"`, Errno.EPROTONOSUPPORT);
  }
  const dialect = baseDialect(r.version);
  if (!dialect || (r.version !== asked && !asked.startsWith(r.version + '.'))) {
    throw new NinepError(`protocol botch: server answered version "${r.version}" to "${asked}"`, Errno.EPROTO);
  }
  if (r.msize > msize) throw new NinepError(`protocol botch: server msize ${r.msize} above the ${msize} asked`, Errno.EPROTO);
  if (r.msize < MIN_MSIZE) throw new NinepError(`server msize ${r.msize} below ${MIN_MSIZE}`, Errno.EPROTO);
  return { version: r.version, dialect };
}

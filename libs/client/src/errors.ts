/**
 * The errors the client adds to NinepError: a request given up by its AbortSignal (and flushed),
 * a walk that stopped short, and the error every pending call gets when the connection goes.
 */
import { Ename, Errno, MsgType, NinepError, textErrno, type Dialect, type Rerror, type Rlerror } from '@prose/protocol';

/**
 * A request abandoned through its AbortSignal: the server answered the Tflush and never the
 * request, so the request did not happen. `name` is "AbortError" (as for fetch), `code` EINTR,
 * `cause` the signal's reason.
 */
export class AbortError extends NinepError {
  constructor(reason?: unknown) {
    super(Ename.interrupted, Errno.EINTR);
    this.name = 'AbortError';
    if (reason !== undefined) this.cause = reason;
  }
}

/**
 * A walk that did not reach its last name. `walked` is how many names were walked (the first
 * `walked` names exist); `names` is the whole path asked for. No fid is left behind.
 */
export class WalkError extends NinepError {
  readonly names: readonly string[];
  readonly walked: number;

  constructor(names: readonly string[], walked: number, errno: number = Errno.ENOENT, ename?: string) {
    const missing = names[walked] ?? '';
    const why = ename ?? (errno === Errno.ENOENT ? Ename.notfound : `errno ${errno}`);
    super(`walk ${JSON.stringify(names.join('/'))}: ${JSON.stringify(missing)}: ${why}`, errno);
    this.name = 'WalkError';
    this.names = names;
    this.walked = walked;
  }
}

/** The error of every call pending when the connection closed, and of every call after it. */
export function connectionClosed(cause?: Error): NinepError {
  const e = new NinepError(cause ? `${Ename.hungup}: ${cause.message}` : Ename.hungup, Errno.ECONNRESET);
  if (cause) e.cause = cause;
  return e;
}

/**
 * The NinepError an error reply stands for, per dialect: Rlerror carries a Linux errno; a .u
 * Rerror its ename and errno (0 → looked up from the text); a 9P2000 Rerror only its ename,
 * mapped with `textErrno`.
 */
export function replyError(r: Rerror | Rlerror, dialect: Dialect): NinepError {
  if (r.type === MsgType.Rlerror) return NinepError.errno(r.ecode);
  const errno = dialect !== '9P2000' && r.errno ? r.errno : textErrno(r.ename);
  return new NinepError(r.ename, errno);
}

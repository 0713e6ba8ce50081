/**
 * Errors on the wire, per dialect: the one place that turns anything thrown into an R-message.
 */
import { Ename, Errno, MsgType, NinepError, isUnexpected, type Dialect, type RMessage } from '@prose/protocol';

/**
 * The error reply for `err` in `dialect`: 9P2000 Rerror{ename}, .u Rerror{ename, errno},
 * .L Rlerror{ecode}. Unexpected throws (not a NinepError, Node system error or AbortError)
 * become "i/o error"/EIO: `onUnexpected` gets the original to log, never the wire.
 */
export function errorReply(tag: number, err: unknown, dialect: Dialect, onUnexpected?: (err: unknown) => void): RMessage {
  let e: NinepError;
  if (err instanceof NinepError) e = err;
  else if (isUnexpected(err)) {
    onUnexpected?.(err);
    e = new NinepError(Ename.io, Errno.EIO);
  } else e = NinepError.from(err);
  switch (dialect) {
    case '9P2000': return { type: MsgType.Rerror, tag, ename: e.ename };
    case '9P2000.u': return { type: MsgType.Rerror, tag, ename: e.ename, errno: e.errno };
    default: return { type: MsgType.Rlerror, tag, ecode: e.errno };
  }
}

/** True for a promise or any thenable. */
export function isThenable<T>(v: unknown): v is PromiseLike<T> {
  return v instanceof Promise || (typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function');
}

/** What an op returns when it answers later by itself (a Tflush waiting for its old request). */
export const PENDING: unique symbol = Symbol('pending');

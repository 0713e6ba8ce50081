/**
 * Errors of the shared-memory transport. Each is a NinepError (so a client failing its pending
 * requests passes on a 9P-shaped error): `code` is the errno name (ECONNRESET, EPROTO, ...)
 * and `reason` the transport's finer, equally stable, cause.
 */
import { Errno, NinepError } from '@prose/protocol';

export type ShmErrorCode =
  /** The peer went away without an orderly close (process exit, SIGKILL, worker.terminate()). */
  | 'peer-gone'
  /** The peer wrote ring words, record headers or descriptors that are out of range. */
  | 'corrupt'
  /** Process mode needs the native addon, which is not built or failed to load. */
  | 'no-addon'
  /** The control-socket handshake failed (refused, bad reply, timeout). */
  | 'handshake'
  /** A bad argument: dial string, ring size, mode. */
  | 'invalid';

const ERRNO: Record<ShmErrorCode, number> = {
  'peer-gone': Errno.ECONNRESET,
  corrupt: Errno.EPROTO,
  'no-addon': Errno.EOPNOTSUPP,
  handshake: Errno.ECONNREFUSED,
  invalid: Errno.EINVAL,
};

export class ShmError extends NinepError {
  readonly reason: ShmErrorCode;
  constructor(reason: ShmErrorCode, message: string) {
    super(message, ERRNO[reason]);
    this.name = 'ShmError';
    this.reason = reason;
  }
}

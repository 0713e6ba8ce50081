/**
 * The framework's error strings beyond the lib9p ones of `Ename`, each with its Linux errno
 * (what .u and .L clients see). Named here so that tests and transcripts pin one wording.
 */
import { Ename, Errno, NinepError } from '@prose/protocol';

/** The framework's own error strings (see `srvError` for their errnos). */
export const SrvEname = {
  noversion: 'no Tversion yet',
  notauthfid: 'not an authentication fid',
  notread: 'fid not open for reading',
  notwrite: 'fid not open for writing',
  badmsg: 'unexpected message type',
  notdialect: 'message not in the negotiated dialect',
  wstattype: 'wstat -- attempt to change type',
  wstatdev: 'wstat -- attempt to change dev',
  wstatqid: 'wstat -- attempt to change qid',
  wstatmuid: 'wstat -- attempt to change muid',
  wstatdir: 'wstat -- attempt to change DMDIR bit',
  toolarge: 'reply does not fit the msize',
} as const;

const ERRNOS: Record<keyof typeof SrvEname, number> = {
  noversion: Errno.EPROTO,
  notauthfid: Errno.EINVAL,
  notread: Errno.EBADF,
  notwrite: Errno.EBADF,
  badmsg: Errno.EPROTO,
  notdialect: Errno.EOPNOTSUPP,
  wstattype: Errno.EPERM,
  wstatdev: Errno.EPERM,
  wstatqid: Errno.EPERM,
  wstatmuid: Errno.EPERM,
  wstatdir: Errno.EPERM,
  toolarge: Errno.EMSGSIZE,
};

/** The NinepError for one of the framework's own errors. */
export function srvError(k: keyof typeof SrvEname): NinepError {
  return new NinepError(SrvEname[k], ERRNOS[k]);
}

/** The NinepError for an errno with its standard text (e.g. EOPNOTSUPP → "operation not supported"). */
export function errnoError(errno: number): NinepError {
  return NinepError.errno(errno);
}

/** "operation not supported" (EOPNOTSUPP): the answer of absent .L callbacks. */
export function notSupported(): NinepError {
  return new NinepError(Ename.notsup, Errno.EOPNOTSUPP);
}

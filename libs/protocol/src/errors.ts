/**
 * 9P errors in one place: one error class, the fixed Linux errno table used on the .u and .L
 * wire (never the host's), and the mapping between errnos and the lib9p error strings that
 * 9P2000 carries and Linux v9fs maps back to errnos.
 */

/** Linux errno numbers as carried by Rerror (.u) and Rlerror (.L). */
export const Errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33,
  ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  ENOMSG: 42, ENODATA: 61, ETIME: 62, EPROTO: 71, EBADMSG: 74, EOVERFLOW: 75, EILSEQ: 84,
  ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTONOSUPPORT: 93, EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101,
  ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ETIMEDOUT: 110,
  ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115,
  ESTALE: 116, EDQUOT: 122, ECANCELED: 125,
} as const;

export type ErrnoName = keyof typeof Errno;

const ERRNO_NAMES: Record<number, ErrnoName> = Object.fromEntries(
  Object.entries(Errno).map(([k, v]) => [v, k as ErrnoName]),
);

/** The lib9p error strings, named (Inferno styxservers style). */
export const Ename = {
  badattach: 'unknown specifier in attach',
  badoffset: 'bad offset in directory read',
  badcount: 'read count too small for a directory entry',
  botch: '9P protocol botch',
  createnondir: 'create in non-directory',
  dupfid: 'duplicate fid',
  duptag: 'duplicate tag',
  isdir: 'is a directory',
  nocreate: 'create prohibited',
  noremove: 'remove prohibited',
  nostat: 'stat prohibited',
  notfound: 'file not found',
  nowrite: 'write prohibited',
  noread: 'read prohibited',
  nowstat: 'wstat prohibited',
  perm: 'permission denied',
  unknownfid: 'unknown fid',
  walknodir: 'walk in non-directory',
  openfid: 'fid already open',
  notopen: 'fid not open for i/o',
  clonefid: 'cannot clone open fid',
  toomanywnames: 'too many names in walk',
  exists: 'file already exists',
  notempty: 'directory not empty',
  interrupted: 'interrupted',
  io: 'i/o error',
  notsup: 'operation not supported',
  toomanyfids: 'too many fids in session',
  toomanytags: 'too many outstanding requests',
  msize: 'msize too small',
  noauth: 'authentication not required',
  needauth: 'authentication required',
  badname: 'bad character in file name',
  nametoolong: 'file name too long',
  hungup: 'connection closed',
  inval: 'invalid argument',
  badctl: 'bad ctl message',
  notconnected: 'not connected',
} as const;

/**
 * errno → the string sent in a 9P2000 Rerror. The lib9p wording where one exists, otherwise
 * the Linux strerror text (which Linux's v9fs error table also maps back).
 */
const ERRNO_TEXT: Record<number, string> = {
  [Errno.EPERM]: 'operation not permitted', [Errno.ENOENT]: Ename.notfound, [Errno.ESRCH]: 'no such process',
  [Errno.EINTR]: Ename.interrupted, [Errno.EIO]: Ename.io, [Errno.ENXIO]: 'no such device or address',
  [Errno.E2BIG]: 'argument list too long', [Errno.EBADF]: Ename.unknownfid, [Errno.EAGAIN]: 'resource temporarily unavailable',
  [Errno.ENOMEM]: 'out of memory', [Errno.EACCES]: Ename.perm, [Errno.EFAULT]: 'bad address',
  [Errno.EBUSY]: 'device or resource busy', [Errno.EEXIST]: Ename.exists, [Errno.EXDEV]: 'invalid cross-device link',
  [Errno.ENODEV]: 'no such device', [Errno.ENOTDIR]: 'not a directory', [Errno.EISDIR]: Ename.isdir,
  [Errno.EINVAL]: Ename.inval, [Errno.ENFILE]: 'too many open files in system', [Errno.EMFILE]: 'too many open files',
  [Errno.ENOTTY]: 'inappropriate ioctl for device', [Errno.ETXTBSY]: 'text file busy', [Errno.EFBIG]: 'file too large',
  [Errno.ENOSPC]: 'no space left on device', [Errno.ESPIPE]: 'illegal seek', [Errno.EROFS]: 'read-only file system',
  [Errno.EMLINK]: 'too many links', [Errno.EPIPE]: 'broken pipe', [Errno.ERANGE]: 'numerical result out of range',
  [Errno.EDEADLK]: 'resource deadlock avoided', [Errno.ENAMETOOLONG]: Ename.nametoolong, [Errno.ENOLCK]: 'no locks available',
  [Errno.ENOSYS]: 'function not implemented', [Errno.ENOTEMPTY]: Ename.notempty, [Errno.ELOOP]: 'too many levels of symbolic links',
  [Errno.ENODATA]: 'no data available', [Errno.ETIME]: 'timer expired', [Errno.EPROTO]: 'protocol error',
  [Errno.EBADMSG]: 'bad message', [Errno.EOVERFLOW]: 'value too large for defined data type',
  [Errno.EMSGSIZE]: 'message too long', [Errno.EOPNOTSUPP]: Ename.notsup, [Errno.EADDRINUSE]: 'address already in use',
  [Errno.EADDRNOTAVAIL]: 'cannot assign requested address', [Errno.ENETUNREACH]: 'network is unreachable',
  [Errno.ECONNABORTED]: 'software caused connection abort', [Errno.ECONNRESET]: 'connection reset by peer',
  [Errno.ENOBUFS]: 'no buffer space available', [Errno.EISCONN]: 'transport endpoint is already connected',
  [Errno.ENOTCONN]: Ename.notconnected, [Errno.ETIMEDOUT]: 'connection timed out',
  [Errno.ECONNREFUSED]: 'connection refused', [Errno.EHOSTUNREACH]: 'no route to host',
  [Errno.EALREADY]: 'operation already in progress', [Errno.EINPROGRESS]: 'operation now in progress',
  [Errno.ESTALE]: 'stale file handle', [Errno.EDQUOT]: 'disk quota exceeded', [Errno.ECANCELED]: 'operation canceled',
};

/** ename → errno, for 9P2000 replies that carry only a string. Our own names first, then errno texts. */
const TEXT_ERRNO: Record<string, number> = (() => {
  const m: Record<string, number> = {};
  for (const [n, t] of Object.entries(ERRNO_TEXT)) m[t] = Number(n);
  const extra: Array<[string, number]> = [
    [Ename.badattach, Errno.ENOENT], [Ename.badoffset, Errno.EINVAL], [Ename.badcount, Errno.EINVAL],
    [Ename.botch, Errno.EPROTO], [Ename.createnondir, Errno.ENOTDIR], [Ename.dupfid, Errno.EBADF],
    [Ename.duptag, Errno.EINVAL], [Ename.nocreate, Errno.EPERM], [Ename.noremove, Errno.EPERM],
    [Ename.nostat, Errno.EPERM], [Ename.nowrite, Errno.EACCES], [Ename.noread, Errno.EACCES],
    [Ename.nowstat, Errno.EPERM], [Ename.walknodir, Errno.ENOTDIR], [Ename.openfid, Errno.EBADF],
    [Ename.notopen, Errno.EBADF], [Ename.clonefid, Errno.EBADF], [Ename.toomanywnames, Errno.E2BIG],
    [Ename.toomanyfids, Errno.EMFILE], [Ename.toomanytags, Errno.EAGAIN], [Ename.msize, Errno.EINVAL],
    [Ename.noauth, Errno.EINVAL], [Ename.needauth, Errno.EACCES], [Ename.badname, Errno.EINVAL],
    [Ename.hungup, Errno.ECONNRESET], [Ename.badctl, Errno.EINVAL], [Ename.unknownfid, Errno.EBADF],
    ['file does not exist', Errno.ENOENT], ['no such file or directory', Errno.ENOENT],
    ['directory entry not found', Errno.ENOENT], ['file exists', Errno.EEXIST],
  ];
  for (const [t, n] of extra) m[t] = n;
  return m;
})();

/** The text sent for an errno in a 9P2000 Rerror. Unknown errnos read "errno N". */
export function errnoText(errno: number): string {
  return ERRNO_TEXT[errno] ?? `errno ${errno}`;
}

/** The errno for an Rerror string: exact lib9p/Linux wording, else a prefix match, else EIO. */
export function textErrno(ename: string): number {
  const lower = ename.toLowerCase();
  const exact = TEXT_ERRNO[lower];
  if (exact !== undefined) return exact;
  for (const [t, n] of Object.entries(TEXT_ERRNO)) if (lower.startsWith(t)) return n;
  return Errno.EIO;
}

/** The symbolic name of an errno, e.g. 2 → "ENOENT"; "EIO" when unknown. */
export function errnoName(errno: number): ErrnoName {
  return ERRNO_NAMES[errno] ?? 'EIO';
}

/**
 * The one error class of 9P. `ename` is the string a 9P2000 peer sees, `errno` the Linux errno
 * a .u/.L peer sees, `code` its symbolic name for callers to switch on.
 *
 * A NinepError is a value that travels: a server makes one to answer, a client makes one from
 * each error reply. So it captures no JS stack. On Node 20 capturing one costs 2.5-5 µs (a
 * plain `new Error` 20 frames deep: 5 µs; with no frames: 0.4 µs), three times per failed
 * request (the handler's error, its mapping, the client's), which made a Tunlinkat or Twalk
 * answered ENOENT cost 25-35 µs instead of a few; and the stack would only ever show the
 * receive path, never the caller's await. Its `stack` is the name and message.
 */
export class NinepError extends Error {
  readonly ename: string;
  readonly errno: number;
  readonly code: ErrnoName;

  /** `new NinepError(Ename.notfound)` or `new NinepError('no such connection', Errno.ENOENT)`. */
  constructor(ename: string, errno?: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(ename);
    Error.stackTraceLimit = limit;
    this.name = 'NinepError';
    this.ename = ename;
    this.errno = errno ?? textErrno(ename);
    this.code = errnoName(this.errno);
  }

  /** The error for an errno, with its standard text. */
  static errno(errno: number, detail?: string): NinepError {
    return new NinepError(detail ? `${errnoText(errno)}: ${detail}` : errnoText(errno), errno);
  }

  /**
   * Maps anything thrown to a NinepError: itself, a Node system error (by its `code`, against the
   * fixed Linux table), an AbortError → "interrupted"; anything else → "i/o error"/EIO.
   */
  static from(err: unknown): NinepError {
    if (err instanceof NinepError) return err;
    if (err && typeof err === 'object') {
      const e = err as { code?: unknown; name?: unknown };
      if (typeof e.code === 'string' && e.code in Errno) return NinepError.errno(Errno[e.code as ErrnoName]);
      if (e.name === 'AbortError') return new NinepError(Ename.interrupted, Errno.EINTR);
    }
    return new NinepError(Ename.io, Errno.EIO);
  }
}

/** True when the error came from an unexpected throw (not a deliberate NinepError): log its stack. */
export function isUnexpected(err: unknown): boolean {
  if (err instanceof NinepError) return false;
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown };
    if (typeof e.code === 'string' && e.code in Errno) return false;
    if (e.name === 'AbortError') return false;
  }
  return true;
}

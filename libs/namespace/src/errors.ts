import { Errno } from '@prose/protocol';

export type NamespaceErrorCode = 'ENOTMOUNTED' | 'EPROVIDERLOST' | 'ENOPROVIDER' | 'ECLOSED';

/**
 * A name-space failure callers switch on by `code`: nothing mounted at a path, a provider lost
 * during a request that is not safe to retry ("provider lost"), no provider to fail over to, or
 * a closed name space. `errno` is the Linux errno for callers that speak errnos.
 */
export class NamespaceError extends Error {
  readonly errno: number;
  constructor(message: string, readonly code: NamespaceErrorCode) {
    super(message);
    this.name = 'NamespaceError';
    this.errno = code === 'ENOTMOUNTED' ? Errno.ENOENT : code === 'ECLOSED' ? Errno.EBADF : Errno.EIO;
  }
}

import * as os from 'node:os';

/** Host errno → name; of two names for one number the usual one (EAGAIN, EOPNOTSUPP, EDEADLK). */
const ALIASES = new Set(['EWOULDBLOCK', 'ENOTSUP', 'EDEADLOCK']);
const NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(os.constants.errno)) if (!ALIASES.has(k)) NAMES[v] ??= k;

/**
 * A failed system call: `errno` is the host's (Linux) number, `code` its name ('ENODATA', ...)
 * like a Node system error's, so code that maps Node errors maps these too; `syscall` names
 * the call.
 *
 * It captures no JS stack: failed calls are answers a file server expects by the thousand (an
 * ENOENT per lookup of a missing name) and a stack costs 2.5-5 µs on Node 20, more than the
 * system call. The message names the call.
 */
export class PosixError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;

  constructor(errno: number, syscall: string, message?: string) {
    const code = NAMES[errno] ?? `E${errno}`;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? `${code}: ${syscall} failed`);
    Error.stackTraceLimit = limit;
    this.name = 'PosixError';
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

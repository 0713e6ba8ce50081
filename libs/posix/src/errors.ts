import * as os from 'node:os';

/** Host errno → name; of two names for one number the usual one (EAGAIN, EOPNOTSUPP, EDEADLK). */
const ALIASES = new Set(['EWOULDBLOCK', 'ENOTSUP', 'EDEADLOCK']);
const NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(os.constants.errno)) if (!ALIASES.has(k)) NAMES[v] ??= k;

/**
 * A failed system call: `errno` is the host's (Linux) number, `code` its name ('ENODATA', ...)
 * like a Node system error's, so code that maps Node errors maps these too; `syscall` names
 * the call.
 */
export class PosixError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;

  constructor(errno: number, syscall: string, message?: string) {
    const code = NAMES[errno] ?? `E${errno}`;
    super(message ?? `${code}: ${syscall} failed`);
    this.name = 'PosixError';
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

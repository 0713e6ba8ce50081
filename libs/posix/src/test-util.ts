/** Helpers shared by the posix tests (not part of the package). */
import { PosixError } from './errors.js';

/**
 * Loads `module` (relative to this directory) afresh with PROSE_POSIX_ADDON pointing nowhere, as
 * where the addon is not built, and hands it to `check`; the environment is restored after.
 */
export function withoutAddon<T>(module: string, check: (fresh: T) => void): void {
  const old = process.env.PROSE_POSIX_ADDON;
  process.env.PROSE_POSIX_ADDON = '/nonexistent/prose_posix.node';
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      check(require(module) as T);
    });
  } finally {
    if (old === undefined) delete process.env.PROSE_POSIX_ADDON;
    else process.env.PROSE_POSIX_ADDON = old;
  }
}

/** The errno name `f` fails with, checked to be a PosixError's; 'no error' when it does not fail. */
export function posixCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PosixError);
    return (e as PosixError).code;
  }
  return 'no error';
}

/**
 * Calls relative to a directory descriptor, which Node does not offer: openat(2), unlinkat(2),
 * mkdirat(2). The directory is pinned by the descriptor and only `name` is looked up in it, so
 * a caller that holds descriptors (the storage export's sandbox) never has the kernel resolve
 * a path from "/". Node's way to the same effect, a path through the magic link
 * `/proc/self/fd/<dirfd>/<name>`, needs procfs and costs the kernel a walk through it (2-3 µs
 * more per call, measured on a 2-vCPU VM). Synchronous, like fs.*Sync: for local file systems.
 * Failures throw PosixError (its `code` is the errno name, as a Node system error's).
 */
import { PosixError } from './errors.js';
import { loadAddon } from './native.js';

/**
 * True when the addon is loaded and has these calls (a build from before them, left in a
 * working tree, loads but lacks them).
 */
export function haveAtCalls(): boolean {
  try {
    return typeof loadAddon().openat === 'function';
  } catch {
    return false;
  }
}

/** unlinkat flag: remove a directory (as rmdir(2)). */
export const AT_REMOVEDIR = 0x200;

function check(r: number, syscall: string): number {
  if (r < 0) throw new PosixError(-r, syscall);
  return r;
}

/** Opens `name` in directory `dirfd` with open(2) `flags` (O_CLOEXEC added) and `mode` for a new file; returns the descriptor. */
export function openat(dirfd: number, name: string, flags: number, mode = 0o666): number {
  return check(loadAddon().openat!(dirfd, name, flags, mode), 'openat');
}

/**
 * `openat` that answers a failure instead of throwing it: the descriptor, or the negative errno
 * (-ENOENT ...). For the lookups a file server expects to fail (a walk to a missing name): a
 * throw and catch costs 1-5 µs on Node 20, more than the system call. Bad arguments still throw.
 */
export function tryOpenat(dirfd: number, name: string, flags: number, mode = 0o666): number {
  return loadAddon().openat!(dirfd, name, flags, mode);
}

/** Removes `name` from directory `dirfd`: a non-directory, or with AT_REMOVEDIR an empty directory. */
export function unlinkat(dirfd: number, name: string, flags = 0): void {
  check(loadAddon().unlinkat!(dirfd, name, flags), 'unlinkat');
}

/** Makes directory `name` in directory `dirfd` with `mode` (less the umask). */
export function mkdirat(dirfd: number, name: string, mode = 0o777): void {
  check(loadAddon().mkdirat!(dirfd, name, mode), 'mkdirat');
}

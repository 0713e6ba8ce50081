/**
 * Extended attributes. Each call comes in three forms, as in Linux: on a path following a
 * final symbolic link (`getxattr`), on a path not following it (`lgetxattr`, acting on the link
 * itself), and on an open descriptor (`fgetxattr`). A path under `/proc/self/fd/N` resolves to
 * exactly the file of descriptor N (a magic link), and the following form then acts on that
 * file even when it is a symlink, without following it further: that is how an O_PATH
 * descriptor, which the f* calls refuse, is used.
 *
 * Values and lists are at most 64 KiB (Linux's XATTR_SIZE_MAX and XATTR_LIST_MAX); each read is
 * one system call into a 64 KiB scratch area, then one copy of the bytes into the Buffer
 * returned. Failures throw PosixError (ENODATA: no such attribute; ENOTSUP: the file system or
 * namespace does not support it; E2BIG/ERANGE: too big; EPERM: user.* on a symlink or device).
 */
import { PosixError } from './errors.js';
import { loadAddon } from './native.js';

/** setxattr flags: fail if the attribute exists / does not exist. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
/** Largest value (and list) Linux stores. */
export const XATTR_SIZE_MAX = 65536;

type Target = string | number;

function value(r: Buffer | number, syscall: string): Buffer {
  if (typeof r === 'number') throw new PosixError(-r, syscall);
  return r;
}

function done(r: number, syscall: string): void {
  if (r < 0) throw new PosixError(-r, syscall);
}

function names(b: Buffer): string[] {
  return b.toString('utf8').split('\0').filter((n) => n !== '');
}

/** The value of attribute `name` of the file at `path` (following a final symlink). */
export function getxattr(path: string, name: string): Buffer {
  return value(loadAddon().getxattr(path, name, false), 'getxattr');
}

/** The value of attribute `name` of the file at `path` itself (a symlink is not followed). */
export function lgetxattr(path: string, name: string): Buffer {
  return value(loadAddon().getxattr(path, name, true), 'lgetxattr');
}

/** The value of attribute `name` of the file open as `fd` (not an O_PATH descriptor). */
export function fgetxattr(fd: number, name: string): Buffer {
  return value(loadAddon().getxattr(fd, name, false), 'fgetxattr');
}

/** The attribute names as the kernel lists them: NUL-terminated, in one Buffer (Rxattrwalk's form). */
export function listxattrRaw(target: Target, nofollow = false): Buffer {
  return value(loadAddon().listxattr(target, nofollow), typeof target === 'number' ? 'flistxattr' : nofollow ? 'llistxattr' : 'listxattr');
}

/** The attribute names of the file at `path` (following a final symlink). */
export function listxattr(path: string): string[] {
  return names(listxattrRaw(path, false));
}

/** The attribute names of the file at `path` itself. */
export function llistxattr(path: string): string[] {
  return names(listxattrRaw(path, true));
}

/** The attribute names of the file open as `fd`. */
export function flistxattr(fd: number): string[] {
  return names(listxattrRaw(fd));
}

function bytes(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/** Sets attribute `name` of the file at `path` (following a final symlink); `flags` XATTR_CREATE/XATTR_REPLACE. */
export function setxattr(path: string, name: string, v: Buffer | string, flags = 0): void {
  done(loadAddon().setxattr(path, name, bytes(v), flags, false), 'setxattr');
}

/** Sets attribute `name` of the file at `path` itself. */
export function lsetxattr(path: string, name: string, v: Buffer | string, flags = 0): void {
  done(loadAddon().setxattr(path, name, bytes(v), flags, true), 'lsetxattr');
}

/** Sets attribute `name` of the file open as `fd`. */
export function fsetxattr(fd: number, name: string, v: Buffer | string, flags = 0): void {
  done(loadAddon().setxattr(fd, name, bytes(v), flags, false), 'fsetxattr');
}

/** Removes attribute `name` of the file at `path` (following a final symlink); ENODATA if absent. */
export function removexattr(path: string, name: string): void {
  done(loadAddon().removexattr(path, name, false), 'removexattr');
}

/** Removes attribute `name` of the file at `path` itself. */
export function lremovexattr(path: string, name: string): void {
  done(loadAddon().removexattr(path, name, true), 'lremovexattr');
}

/** Removes attribute `name` of the file open as `fd`. */
export function fremovexattr(fd: number, name: string): void {
  done(loadAddon().removexattr(fd, name, false), 'fremovexattr');
}

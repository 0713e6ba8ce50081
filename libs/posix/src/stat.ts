/**
 * stat without Node's Stats objects: statx(2) through the addon into one reused Float64Array,
 * read into a plain HostStat of numbers. Node's `fstatSync(fd, { bigint: true })` — the only
 * Node stat exact for 64-bit inode numbers and nanosecond times — builds eighteen BigInts and
 * four Dates per call: 0.75 µs against 0.37 µs for this (measured on a 2-vCPU VM), and a file
 * server stats on every walk step, create and getattr.
 *
 * Device and inode numbers stay bigints (they may pass 2^53; the addon hands each over as two
 * exact 32-bit halves); everything else is a number: sizes and block counts are exact below
 * 2^53 bytes, and times come as seconds and nanoseconds apart, as statx has them.
 *
 * Without the addon (or with one built before statx), the same calls fall back to Node's bigint
 * stat, converted: callers see one type either way.
 */
import * as fs from 'node:fs';
import { PosixError } from './errors.js';
import { loadAddon } from './native.js';

/** A file's status: statx(2)'s basic fields and birth time (0, 0 where the file system has none). */
export interface HostStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
  birthtimeSec: number;
  birthtimeNsec: number;
}

/** The addon's output layout (native/prose_posix.c, StatxInto). */
const FIELDS = 20;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const TWO32 = 4294967296;
const out = new Float64Array(FIELDS);

let native: boolean | undefined;
/** True when the addon has statx (else the calls below use Node's stat). */
export function haveStatx(): boolean {
  if (native === undefined) {
    try {
      native = typeof loadAddon().statx === 'function';
    } catch {
      native = false;
    }
  }
  return native;
}

/** @internal A 64-bit number from the addon's two exact halves: one BigInt, built from a Number when exact. */
export function u64(hi: number, lo: number): bigint {
  return hi < 0x200000 ? BigInt(hi * TWO32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function statx(dirfd: number, name: string, flags: number, syscall: string): HostStat {
  const r = loadAddon().statx!(dirfd, name, flags, out);
  if (r < 0) throw new PosixError(-r, syscall);
  const o = out;
  return {
    dev: u64(o[0]!, o[1]!), ino: u64(o[2]!, o[3]!),
    mode: o[4]!, nlink: o[5]!, uid: o[6]!, gid: o[7]!, rdev: o[8]!, size: o[9]!, blksize: o[10]!, blocks: o[11]!,
    atimeSec: o[12]!, atimeNsec: o[13]!, mtimeSec: o[14]!, mtimeNsec: o[15]!,
    ctimeSec: o[16]!, ctimeNsec: o[17]!, birthtimeSec: o[18]!, birthtimeNsec: o[19]!,
  };
}

const BILLION = 1_000_000_000n;
function sec(ns: bigint): number {
  return Number(ns / BILLION);
}
function nsec(ns: bigint): number {
  return Number(ns % BILLION);
}

/** A HostStat from Node's bigint stat (the fallback, and for stats made in Node's thread pool). */
export function fromNodeStats(st: fs.BigIntStats): HostStat {
  const birth = st.birthtimeNs > 0n;
  return {
    dev: st.dev, ino: st.ino,
    mode: Number(st.mode), nlink: Number(st.nlink), uid: Number(st.uid), gid: Number(st.gid), rdev: Number(st.rdev),
    size: Number(st.size), blksize: Number(st.blksize), blocks: Number(st.blocks),
    atimeSec: sec(st.atimeNs), atimeNsec: nsec(st.atimeNs), mtimeSec: sec(st.mtimeNs), mtimeNsec: nsec(st.mtimeNs),
    ctimeSec: sec(st.ctimeNs), ctimeNsec: nsec(st.ctimeNs),
    birthtimeSec: birth ? sec(st.birthtimeNs) : 0, birthtimeNsec: birth ? nsec(st.birthtimeNs) : 0,
  };
}

/** fstat(2) of an open descriptor (O_PATH ones too). Throws PosixError or Node's error. */
export function fstat(fd: number): HostStat {
  if (haveStatx()) return statx(fd, '', AT_EMPTY_PATH, 'fstat');
  return fromNodeStats(fs.fstatSync(fd, { bigint: true }));
}

/**
 * lstat(2) of `name` in directory `dirfd` (the link itself, not followed). Without the addon
 * the name is reached through `/proc/self/fd/<dirfd>/<name>`, the same lookup.
 */
export function lstatAt(dirfd: number, name: string): HostStat {
  if (haveStatx()) return statx(dirfd, name, AT_SYMLINK_NOFOLLOW, 'lstat');
  return fromNodeStats(fs.lstatSync(`/proc/self/fd/${dirfd}/${name}`, { bigint: true }));
}

/** lstat(2) of a path (relative to the working directory when not absolute). */
export function lstat(path: string): HostStat {
  if (haveStatx()) return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 'lstat');
  return fromNodeStats(fs.lstatSync(path, { bigint: true }));
}

/**
 * Directory entries with their inode numbers and types, many per system call (getdents64),
 * so a listing needs no lstat per entry.
 */
import { PosixError } from './errors.js';
import { loadAddon } from './native.js';

/** One directory entry as the kernel gives it. */
export interface Dirent64 {
  name: string;
  /** Inode number (d_ino). */
  ino: bigint;
  /** DT_* type (d_type); DT_UNKNOWN (0) where the file system does not say. */
  type: number;
  /** The position after this entry (d_off), for lseek on the directory; -1 from `readDirents`. */
  off: bigint;
}

/** Bytes read per getdents64 call when the caller gives no buffer. */
export const DENTS_BUF = 64 * 1024;

/**
 * One getdents64 call on `fd` (a directory opened for reading, not O_PATH): the entries it
 * returned, in the kernel's order, "." and ".." included; an empty array at the end of the
 * directory. `buf` is scratch space, reusable once this returns. Throws PosixError (ENOTDIR,
 * EBADF, EINVAL when `buf` cannot hold even one entry).
 */
export function getdents(fd: number, buf: Buffer = Buffer.allocUnsafe(DENTS_BUF)): Dirent64[] {
  const n = loadAddon().getdents(fd, buf);
  if (n < 0) throw new PosixError(-n, 'getdents64');
  const out: Dirent64[] = [];
  let p = 0;
  while (p < n) {
    const reclen = buf.readUInt16LE(p + 16);
    // The name ends at its NUL; the padding after it up to reclen is not cleared by every file system.
    const limit = p + reclen;
    let end = p + 19;
    while (end < limit && buf[end] !== 0) end++;
    out.push({ ino: buf.readBigUInt64LE(p), off: buf.readBigInt64LE(p + 8), type: buf[p + 18]!, name: buf.toString('utf8', p + 19, end) });
    p += reclen;
  }
  return out;
}

/** Every entry of a directory in three compact pieces (see `readDirectory`). */
export interface DirEntries {
  /** The names, in the kernel's order. */
  names: string[];
  /** d_ino of each entry. */
  inos: BigUint64Array;
  /** d_type of each entry (DT_UNKNOWN, 0, where the file system does not say). */
  types: Uint8Array;
  /** The length of each name in bytes (UTF-8, as on disk). */
  nameBytes: Uint16Array;
}

/**
 * Every entry of the directory open as `fd`, from its current position to the end, "." and ".."
 * left out: getdents64 in 64 KiB batches until it returns nothing, the records compacted in C
 * into one string of names and three typed arrays, so a listing of N entries costs N array
 * elements rather than N objects. Throws PosixError (ENOTDIR, EBADF, ...).
 */
export function readDirectory(fd: number): DirEntries {
  const r = loadAddon().readdir(fd);
  if (typeof r === 'number') throw new PosixError(-r, 'getdents64');
  const [joined, inos, types, nameBytes] = r;
  return { names: inos.length === 0 ? [] : joined.split('/'), inos, types, nameBytes };
}

/** `readDirectory`'s result with the names left in the one string the addon makes. */
export interface DirEntriesJoined {
  /** The names in the kernel's order, each followed by "/" but the last ("" when none). */
  joined: string;
  inos: BigUint64Array;
  types: Uint8Array;
  nameBytes: Uint16Array;
}

/**
 * `readDirectory` without splitting the names: for a caller that encodes them all at once
 * (one string instead of one per entry). Throws as `readDirectory`.
 */
export function readDirectoryJoined(fd: number): DirEntriesJoined {
  const r = loadAddon().readdir(fd);
  if (typeof r === 'number') throw new PosixError(-r, 'getdents64');
  const [joined, inos, types, nameBytes] = r;
  return { joined: inos.length === 0 ? '' : joined, inos, types, nameBytes };
}

/** Every entry of the directory open as `fd` as Dirent64 objects ("." and ".." left out). */
export function readDirents(fd: number): Dirent64[] {
  const { names, inos, types } = readDirectory(fd);
  const out: Dirent64[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) out[i] = { name: names[i]!, ino: inos[i]!, type: types[i]!, off: -1n };
  return out;
}

/** A directory's entries already encoded as 9P2000.L dirents (see `readDirectoryEncoded`). */
export interface DirEntriesEncoded {
  /** The dirents back to back: qid[13] offset[8] type[1] name[s] each (after the prefix, if one was given). */
  records: Buffer;
  /** Where each entry ends in `records` (the prefix's length counted). */
  ends: Uint32Array;
  /** Indices of the entries whose d_type was DT_UNKNOWN: their qid.path is 0, to be filled by the caller. */
  unknown: Uint32Array;
}

const EILSEQ = 84;

/**
 * Every entry of the directory open as `fd` ("." and ".." left out), encoded in C straight from
 * the getdents64 records as the dirents of an Rreaddir: qid.type from d_type (directory,
 * symlink, else file), qid.version 0, qid.path = d_ino xor `top` (a device tag in the high
 * bits), offset = `firstCookie` + index. No name becomes a string. With `prefix` (entries the
 * caller encoded, "." and ".." say), `records` begins with its bytes, so one buffer holds the
 * whole listing. Undefined when a name is not well-formed UTF-8 (a caller that lists names as
 * decoded strings then uses `readDirectory`, so that both agree) or the addon predates this
 * call; throws PosixError otherwise.
 */
export function readDirectoryEncoded(fd: number, top: bigint, firstCookie: number, prefix?: Buffer): DirEntriesEncoded | undefined {
  const addon = loadAddon();
  if (addon.readdirEncoded === undefined) return undefined;
  const r = addon.readdirEncoded(fd, Number(top & 0xffffffffn), Number(top >> 32n), firstCookie, prefix);
  if (typeof r === 'number') {
    if (r === -EILSEQ) return undefined;
    throw new PosixError(-r, 'getdents64');
  }
  const [records, ends, unknown] = r;
  return { records, ends, unknown };
}

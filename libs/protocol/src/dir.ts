/**
 * stat(5) records (9P2000 and .u) and 9P2000.L dirents: the records inside Rstat, Twstat,
 * directory Rread payloads and Rreaddir payloads.
 */
import { QID_SIZE } from './constants.js';
import type { Dialect, Dir, Dirent, Qid } from './fcall.js';
import { Errno, NinepError } from './errors.js';
import { MAX_EXACT, Reader, Writer, malformed, put64, putQid } from './wire.js';

/** Writes one stat record, including its leading size[2]. */
export function writeDir(w: Writer, d: Dir, dialect: Dialect): void {
  const start = w.pos;
  w.u16(0);
  w.u16(d.type);
  w.u32(d.dev);
  w.qid(d.qid);
  w.u32(d.mode);
  w.u32(d.atime);
  w.u32(d.mtime);
  if (isDontTouchLength(d.length)) {
    // "don't touch" is ~0 on the wire; as a number it is anything from 2^53-1 up.
    w.u32(0xffffffff);
    w.u32(0xffffffff);
  } else w.u64(d.length);
  w.str(d.name);
  w.str(d.uid);
  w.str(d.gid);
  w.str(d.muid);
  if (dialect !== '9P2000') {
    w.str(d.extension ?? '');
    w.u32(d.nUid ?? 0xffffffff);
    w.u32(d.nGid ?? 0xffffffff);
    w.u32(d.nMuid ?? 0xffffffff);
  }
  const n = w.pos - start - 2;
  if (n > 0xffff) throw malformed(`stat record of ${n} bytes`);
  w.patch16(start, n);
}

/** Reads one stat record (with its size[2]) and checks that the size matches its fields. */
export function readDir(r: Reader, dialect: Dialect): Dir {
  const size = r.u16();
  r.need(size);
  const end = r.pos + size;
  const inner = new Reader(r.buf, r.pos, end);
  const d: Dir = {
    type: inner.u16(),
    dev: inner.u32(),
    qid: inner.qid(),
    mode: inner.u32(),
    atime: inner.u32(),
    mtime: inner.u32(),
    length: inner.u64(),
    name: inner.str(),
    uid: inner.str(),
    gid: inner.str(),
    muid: inner.str(),
  };
  if (dialect !== '9P2000') {
    d.extension = inner.str();
    d.nUid = inner.u32();
    d.nGid = inner.u32();
    d.nMuid = inner.u32();
  }
  inner.done('stat record');
  r.pos = end;
  return d;
}

/** The stat record as bytes (for directory reads). */
export function packDir(d: Dir, dialect: Dialect): Buffer {
  const w = new Writer(128);
  writeDir(w, d, dialect);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

/** Splits a 9P2000/.u directory read payload into stat records. */
export function unpackDirs(data: Buffer, dialect: Dialect): Dir[] {
  const r = new Reader(data, 0, data.length);
  const out: Dir[] = [];
  while (r.pos < r.end) out.push(readDir(r, dialect));
  return out;
}

/** A "don't touch" stat for Twstat (stat(5)): every field ~0 or empty. Override what to change. */
export function nullDir(): Dir {
  const ones = 0xffffffff;
  return {
    type: 0xffff, dev: ones, qid: { type: 0xff, version: ones, path: 0xffffffffffffffffn }, mode: ones,
    atime: ones, mtime: ones, length: Number.MAX_SAFE_INTEGER, name: '', uid: '', gid: '', muid: '',
    extension: '', nUid: ones, nGid: ones, nMuid: ones,
  };
}

/** True when a Twstat length field means "don't touch" (all ones, as far as a number holds). */
export function isDontTouchLength(n: number): boolean {
  return n >= Number.MAX_SAFE_INTEGER;
}

/** Bytes of a .L dirent before its name: qid[13] offset[8] type[1] name-length[2]. */
export const DIRENT_HEAD = QID_SIZE + 8 + 1 + 2;

/** The bytes of one .L dirent: qid[13] offset[8] type[1] name[s]. */
export function direntSize(name: string): number {
  return DIRENT_HEAD + Buffer.byteLength(name, 'utf8');
}

/** Writes one .L dirent. */
export function writeDirent(w: Writer, e: Dirent): void {
  // Room for the longest UTF-8 form of the name (3 bytes per UTF-16 unit), then one pass.
  w.ensure(DIRENT_HEAD + 3 * e.name.length);
  w.pos = putDirent(w.buf, w.pos, e);
}

/**
 * Stores dirent `e` at `at` in `b`, which has room for DIRENT_HEAD + 3 × name.length bytes;
 * returns where it ends. The name is encoded once, straight into place; qid.path and the cookie
 * are stored from numbers when they are below 2^53 (every inode number in practice).
 */
export function putDirent(b: Buffer, at: number, e: Dirent): number {
  const n = b.write(e.name, at + DIRENT_HEAD, 'utf8');
  if (n > 0xffff) throw new NinepError(`string of ${n} bytes does not fit a 9P string`, Errno.ENAMETOOLONG);
  putQid(b, at, e.qid);
  if (e.cookie !== undefined) b.writeBigUInt64LE(BigInt.asUintN(64, e.cookie), at + QID_SIZE);
  else put64(b, at + QID_SIZE, e.offset);
  b[at + QID_SIZE + 8] = e.type;
  b[at + QID_SIZE + 9] = n & 0xff;
  b[at + QID_SIZE + 10] = n >>> 8;
  return at + DIRENT_HEAD + n;
}

/**
 * The bytes of the whole dirents at the start of `data` (an Rreaddir payload) that fit in
 * `count`: 0 when the first does not. Reads only the name lengths.
 */
export function direntsFit(data: Buffer, count: number): number {
  const end = Math.min(data.length, count);
  let at = 0;
  for (;;) {
    if (at + DIRENT_HEAD > end) return at;
    const next = at + DIRENT_HEAD + (data[at + DIRENT_HEAD - 2]! | (data[at + DIRENT_HEAD - 1]! << 8));
    if (next > end) return at;
    at = next;
  }
}

/** Packs dirents into an Rreaddir payload, stopping before the first that would pass `count` bytes. */
export function packDirents(entries: Iterable<Dirent>, count: number): { data: Buffer; n: number } {
  const w = new Writer(Math.min(count, 64 * 1024) || 64);
  let n = 0;
  for (const e of entries) {
    const at = w.pos;
    writeDirent(w, e);
    if (w.pos > count) {
      w.pos = at;
      break;
    }
    n++;
  }
  return { data: Buffer.from(w.buf.subarray(0, w.pos)), n };
}

/** Splits an Rreaddir payload into dirents. */
export function unpackDirents(data: Buffer): Dirent[] {
  const r = new Reader(data, 0, data.length);
  const out: Dirent[] = [];
  while (r.pos < r.end) {
    const qid: Qid = r.qid();
    const off = r.u64big();
    const e: Dirent = { qid, offset: Number(off), type: r.u8(), name: r.str() };
    if (off > MAX_EXACT) e.cookie = off;
    out.push(e);
  }
  return out;
}

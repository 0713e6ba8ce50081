/**
 * The codec: `encode` and `decode` are two switches in the same case order, diffable by eye.
 * Payloads (Twrite/Rread/Rreaddir data) are views into the frame on decode, and are left out of
 * the header on `encodeVec` so a transport can write them without copying.
 */
import { Buffer } from 'node:buffer'; // not the global: in Node 20 that is a getter on globalThis, read on every use
import { HEADER_SIZE, MSG_NAMES, MsgType } from './constants.js';
import { readDir, writeDir } from './dir.js';
import type { Dialect, Fcall, Qid } from './fcall.js';
import { MAX_EXACT, Reader, Writer, get16, get32, get64, malformed, put16, put32, put64 } from './wire.js';

const scratch = new Writer(64 * 1024);
/**
 * encodeVec writes headers straight into a slab and hands out views of it, never writing the
 * same bytes twice (a header may sit in a transport's queue for a while). A new slab is taken
 * when less than HEAD_ROOM is left; a bigger message grows the slab as a Writer does.
 */
const HEAD_SLAB = 16 * 1024;
const HEAD_ROOM = 512;
let heads = new Writer(HEAD_SLAB);
/** decode's Reader, reused: decode runs to completion before the next one starts. */
const EMPTY = Buffer.alloc(0);
const reader = new Reader(EMPTY, 0, 0);
const TWRITE = MsgType.Twrite;
const RWRITE = MsgType.Rwrite;
/** size[4] type[1] tag[2] fid[4] offset[8] count[4] */
const TWRITE_HEAD = 23;
/** size[4] type[1] tag[2] count[4] */
const RWRITE_SIZE = 11;

/**
 * Encodes a message into one frame (size[4] type[1] tag[2] body). Copies the payload once;
 * use `encodeVec` on hot paths.
 */
export function encode(f: Fcall, dialect: Dialect): Buffer {
  const w = scratch.reset();
  const payload = writeMessage(w, f, dialect);
  const total = w.pos + (payload ? payload.length : 0);
  const out = Buffer.allocUnsafe(total);
  w.buf.copy(out, 0, 0, w.pos);
  if (payload) payload.copy(out, w.pos);
  out.writeUInt32LE(total, 0);
  return out;
}

/**
 * Encodes a message as [header] or [header, payload]: the payload Buffer of Twrite, Rread and
 * Rreaddir is returned as is, not copied. The header's size field covers both. The header is a
 * view of a slab the codec never writes again: it may be kept, and patched (the client writes
 * its tag into it).
 */
export function encodeVec(f: Fcall, dialect: Dialect): Buffer[] {
  let w = heads;
  if (w.buf.length - w.pos < HEAD_ROOM) w = heads = new Writer(HEAD_SLAB);
  const start = w.pos;
  // The two messages of every write round trip, field by field: the same bytes as their cases in
  // writeMessage (codec.test.ts checks it), without the dispatch and the calls of the generic path.
  if (f.type === TWRITE) {
    const data = f.data;
    const b = w.buf;
    put32(b, start, TWRITE_HEAD + data.length);
    b[start + 4] = TWRITE;
    put16(b, start + 5, f.tag);
    put32(b, start + 7, f.fid);
    put64(b, start + 11, f.offset);
    put32(b, start + 19, data.length);
    w.pos = start + TWRITE_HEAD;
    const head = w.view(start, start + TWRITE_HEAD);
    return data.length > 0 ? [head, data] : [head];
  }
  if (f.type === RWRITE) {
    const b = w.buf;
    put32(b, start, RWRITE_SIZE);
    b[start + 4] = RWRITE;
    put16(b, start + 5, f.tag);
    put32(b, start + 7, f.count);
    w.pos = start + RWRITE_SIZE;
    return [w.view(start, start + RWRITE_SIZE)];
  }
  let payload: Buffer | undefined;
  try {
    payload = writeMessage(w, f, dialect);
  } catch (err) {
    w.pos = start;
    throw err;
  }
  const len = w.pos - start;
  w.patch32(start, len + (payload ? payload.length : 0));
  const head = w.view(start, w.pos);
  return payload && payload.length > 0 ? [head, payload] : [head];
}

function qids(w: Writer, qs: Qid[]): void {
  w.u16(qs.length);
  for (const q of qs) w.qid(q);
}

/** Writes size(placeholder) type tag body; returns the payload to append, if any. */
function writeMessage(w: Writer, f: Fcall, d: Dialect): Buffer | undefined {
  const dotu = d !== '9P2000';
  w.u32(0);
  w.u8(f.type);
  w.u16(f.tag);
  switch (f.type) {
    case MsgType.Tversion: w.u32(f.msize); w.str(f.version); break;
    case MsgType.Rversion: w.u32(f.msize); w.str(f.version); break;
    case MsgType.Tauth: w.u32(f.afid); w.str(f.uname); w.str(f.aname); if (dotu) w.u32(f.nUname ?? 0xffffffff); break;
    case MsgType.Rauth: w.qid(f.aqid); break;
    case MsgType.Tattach: w.u32(f.fid); w.u32(f.afid); w.str(f.uname); w.str(f.aname); if (dotu) w.u32(f.nUname ?? 0xffffffff); break;
    case MsgType.Rattach: w.qid(f.qid); break;
    case MsgType.Rerror: w.str(f.ename); if (dotu) w.u32(f.errno ?? 0); break;
    case MsgType.Rlerror: w.u32(f.ecode); break;
    case MsgType.Tflush: w.u16(f.oldtag); break;
    case MsgType.Rflush: break;
    case MsgType.Twalk: w.u32(f.fid); w.u32(f.newfid); w.u16(f.wname.length); for (const n of f.wname) w.str(n); break;
    case MsgType.Rwalk: qids(w, f.wqid); break;
    case MsgType.Topen: w.u32(f.fid); w.u8(f.mode); break;
    case MsgType.Ropen: w.qid(f.qid); w.u32(f.iounit); break;
    case MsgType.Tcreate: w.u32(f.fid); w.str(f.name); w.u32(f.perm); w.u8(f.mode); if (dotu) w.str(f.extension ?? ''); break;
    case MsgType.Rcreate: w.qid(f.qid); w.u32(f.iounit); break;
    case MsgType.Tread: w.u32(f.fid); w.u64(f.offset); w.u32(f.count); break;
    case MsgType.Rread: w.u32(f.data.length); return f.data;
    case MsgType.Twrite: w.u32(f.fid); w.u64(f.offset); w.u32(f.data.length); return f.data;
    case MsgType.Rwrite: w.u32(f.count); break;
    case MsgType.Tclunk: w.u32(f.fid); break;
    case MsgType.Rclunk: break;
    case MsgType.Tremove: w.u32(f.fid); break;
    case MsgType.Rremove: break;
    case MsgType.Tstat: w.u32(f.fid); break;
    case MsgType.Rstat: { const at = w.pos; w.u16(0); writeDir(w, f.stat, d); w.patch16(at, w.pos - at - 2); break; }
    case MsgType.Twstat: { w.u32(f.fid); const at = w.pos; w.u16(0); writeDir(w, f.stat, d); w.patch16(at, w.pos - at - 2); break; }
    case MsgType.Rwstat: break;
    case MsgType.Tstatfs: w.u32(f.fid); break;
    case MsgType.Rstatfs:
      w.u32(f.fsType); w.u32(f.bsize); w.u64(f.blocks); w.u64(f.bfree); w.u64(f.bavail); w.u64(f.files);
      w.u64(f.ffree); w.u64big(f.fsid); w.u32(f.namelen); break;
    case MsgType.Tlopen: w.u32(f.fid); w.u32(f.flags); break;
    case MsgType.Rlopen: w.qid(f.qid); w.u32(f.iounit); break;
    case MsgType.Tlcreate: w.u32(f.fid); w.str(f.name); w.u32(f.flags); w.u32(f.mode); w.u32(f.gid); break;
    case MsgType.Rlcreate: w.qid(f.qid); w.u32(f.iounit); break;
    case MsgType.Tsymlink: w.u32(f.fid); w.str(f.name); w.str(f.symtgt); w.u32(f.gid); break;
    case MsgType.Rsymlink: w.qid(f.qid); break;
    case MsgType.Tmknod: w.u32(f.dfid); w.str(f.name); w.u32(f.mode); w.u32(f.major); w.u32(f.minor); w.u32(f.gid); break;
    case MsgType.Rmknod: w.qid(f.qid); break;
    case MsgType.Trename: w.u32(f.fid); w.u32(f.dfid); w.str(f.name); break;
    case MsgType.Rrename: break;
    case MsgType.Treadlink: w.u32(f.fid); break;
    case MsgType.Rreadlink: w.str(f.target); break;
    case MsgType.Tgetattr: w.u32(f.fid); w.u64(f.requestMask); break;
    case MsgType.Rgetattr:
      w.u64(f.valid); w.qid(f.qid); w.u32(f.mode); w.u32(f.uid); w.u32(f.gid); w.u64(f.nlink); w.u64(f.rdev);
      w.u64(f.size); w.u64(f.blksize); w.u64(f.blocks); w.u64(f.atimeSec); w.u64(f.atimeNsec);
      w.u64(f.mtimeSec); w.u64(f.mtimeNsec); w.u64(f.ctimeSec); w.u64(f.ctimeNsec); w.u64(f.btimeSec);
      w.u64(f.btimeNsec); w.u64(f.gen); w.u64(f.dataVersion); break;
    case MsgType.Tsetattr:
      w.u32(f.fid); w.u32(f.valid); w.u32(f.mode); w.u32(f.uid); w.u32(f.gid); w.u64(f.size);
      w.u64(f.atimeSec); w.u64(f.atimeNsec); w.u64(f.mtimeSec); w.u64(f.mtimeNsec); break;
    case MsgType.Rsetattr: break;
    case MsgType.Txattrwalk: w.u32(f.fid); w.u32(f.newfid); w.str(f.name); break;
    case MsgType.Rxattrwalk: w.u64(f.size); break;
    case MsgType.Txattrcreate: w.u32(f.fid); w.str(f.name); w.u64(f.attrSize); w.u32(f.flags); break;
    case MsgType.Rxattrcreate: break;
    case MsgType.Treaddir:
      w.u32(f.fid); if (f.cookie !== undefined) w.u64big(f.cookie); else w.u64(f.offset); w.u32(f.count); break;
    case MsgType.Rreaddir: w.u32(f.data.length); return f.data;
    case MsgType.Tfsync: w.u32(f.fid); w.u32(f.datasync); break;
    case MsgType.Rfsync: break;
    case MsgType.Tlock:
      w.u32(f.fid); w.u8(f.lockType); w.u32(f.flags); w.u64(f.start); w.u64(f.length); w.u32(f.procId);
      w.str(f.clientId); break;
    case MsgType.Rlock: w.u8(f.status); break;
    case MsgType.Tgetlock:
      w.u32(f.fid); w.u8(f.lockType); w.u64(f.start); w.u64(f.length); w.u32(f.procId); w.str(f.clientId); break;
    case MsgType.Rgetlock: w.u8(f.lockType); w.u64(f.start); w.u64(f.length); w.u32(f.procId); w.str(f.clientId); break;
    case MsgType.Tlink: w.u32(f.dfid); w.u32(f.fid); w.str(f.name); break;
    case MsgType.Rlink: break;
    case MsgType.Tmkdir: w.u32(f.dfid); w.str(f.name); w.u32(f.mode); w.u32(f.gid); break;
    case MsgType.Rmkdir: w.qid(f.qid); break;
    case MsgType.Trenameat: w.u32(f.olddirfid); w.str(f.oldname); w.u32(f.newdirfid); w.str(f.newname); break;
    case MsgType.Rrenameat: break;
    case MsgType.Tunlinkat: w.u32(f.dirfd); w.str(f.name); w.u32(f.flags); break;
    case MsgType.Runlinkat: break;
    default: throw malformed(`cannot encode message type ${(f as { type: number }).type}`);
  }
  return undefined;
}

/**
 * Decodes one whole frame (size[4] included). The frame must be exactly one message: its size
 * field must equal `frame.length` and the body must end where the frame ends. Payloads are
 * views into `frame`. Throws a NinepError (EPROTO) naming what is wrong.
 */
export function decode(frame: Buffer, dialect: Dialect): Fcall {
  const len = frame.length;
  if (len < HEADER_SIZE) throw malformed(`frame of ${len} bytes`);
  const size = get32(frame, 0);
  if (size !== len) throw malformed(`size field ${size} but frame of ${len} bytes`);
  if (frame[4] === TWRITE && size >= TWRITE_HEAD && get32(frame, 19) === size - TWRITE_HEAD) {
    // A well-formed Twrite, field by field (the Twrite case of readBody, without its dispatch);
    // anything else about a Twrite goes the generic way, which says what is wrong.
    return { type: TWRITE, tag: get16(frame, 5), fid: get32(frame, 7), offset: get64(frame, 11), data: frame.subarray(TWRITE_HEAD, size) };
  }
  const r = reader;
  r.buf = frame;
  r.pos = 5;
  r.end = size;
  const type = frame[4]! as MsgType;
  const tag = r.u16();
  try {
    const f = readBody(r, type, tag, dialect);
    r.done(MSG_NAMES[type] ?? `type ${type}`);
    return f;
  } finally {
    r.buf = EMPTY;
  }
}

/** The message type and tag of a frame, without decoding its body (for errors about it). */
export function peekHeader(frame: Buffer): { type: number; tag: number } | undefined {
  if (frame.length < HEADER_SIZE) return undefined;
  return { type: frame[4]!, tag: frame.readUInt16LE(5) };
}

function readQids(r: Reader): Qid[] {
  const n = r.u16();
  const out: Qid[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.qid();
  return out;
}

function readBody(r: Reader, type: MsgType, tag: number, d: Dialect): Fcall {
  const dotu = d !== '9P2000';
  switch (type) {
    case MsgType.Tversion: return { type, tag, msize: r.u32(), version: r.str() };
    case MsgType.Rversion: return { type, tag, msize: r.u32(), version: r.str() };
    case MsgType.Tauth: return { type, tag, afid: r.u32(), uname: r.str(), aname: r.str(), ...(dotu ? { nUname: r.u32() } : {}) };
    case MsgType.Rauth: return { type, tag, aqid: r.qid() };
    case MsgType.Tattach: return { type, tag, fid: r.u32(), afid: r.u32(), uname: r.str(), aname: r.str(), ...(dotu ? { nUname: r.u32() } : {}) };
    case MsgType.Rattach: return { type, tag, qid: r.qid() };
    case MsgType.Rerror: return { type, tag, ename: r.str(), ...(dotu ? { errno: r.u32() } : {}) };
    case MsgType.Rlerror: return { type, tag, ecode: r.u32() };
    case MsgType.Tflush: return { type, tag, oldtag: r.u16() };
    case MsgType.Rflush: return { type, tag };
    case MsgType.Twalk: {
      const fid = r.u32(), newfid = r.u32(), n = r.u16();
      const wname: string[] = new Array(n);
      for (let i = 0; i < n; i++) wname[i] = r.str();
      return { type, tag, fid, newfid, wname };
    }
    case MsgType.Rwalk: return { type, tag, wqid: readQids(r) };
    case MsgType.Topen: return { type, tag, fid: r.u32(), mode: r.u8() };
    case MsgType.Ropen: return { type, tag, qid: r.qid(), iounit: r.u32() };
    case MsgType.Tcreate: return { type, tag, fid: r.u32(), name: r.str(), perm: r.u32(), mode: r.u8(), ...(dotu ? { extension: r.str() } : {}) };
    case MsgType.Rcreate: return { type, tag, qid: r.qid(), iounit: r.u32() };
    case MsgType.Tread: return { type, tag, fid: r.u32(), offset: r.u64(), count: r.u32() };
    case MsgType.Rread: return { type, tag, data: r.bytes(r.u32()) };
    case MsgType.Twrite: { const fid = r.u32(), offset = r.u64(); return { type, tag, fid, offset, data: r.bytes(r.u32()) }; }
    case MsgType.Rwrite: return { type, tag, count: r.u32() };
    case MsgType.Tclunk: return { type, tag, fid: r.u32() };
    case MsgType.Rclunk: return { type, tag };
    case MsgType.Tremove: return { type, tag, fid: r.u32() };
    case MsgType.Rremove: return { type, tag };
    case MsgType.Tstat: return { type, tag, fid: r.u32() };
    case MsgType.Rstat: return { type, tag, stat: readSizedDir(r, d) };
    case MsgType.Twstat: { const fid = r.u32(); return { type, tag, fid, stat: readSizedDir(r, d) }; }
    case MsgType.Rwstat: return { type, tag };
    case MsgType.Tstatfs: return { type, tag, fid: r.u32() };
    case MsgType.Rstatfs:
      return {
        type, tag, fsType: r.u32(), bsize: r.u32(), blocks: r.u64(), bfree: r.u64(), bavail: r.u64(),
        files: r.u64(), ffree: r.u64(), fsid: r.u64big(), namelen: r.u32(),
      };
    case MsgType.Tlopen: return { type, tag, fid: r.u32(), flags: r.u32() };
    case MsgType.Rlopen: return { type, tag, qid: r.qid(), iounit: r.u32() };
    case MsgType.Tlcreate: return { type, tag, fid: r.u32(), name: r.str(), flags: r.u32(), mode: r.u32(), gid: r.u32() };
    case MsgType.Rlcreate: return { type, tag, qid: r.qid(), iounit: r.u32() };
    case MsgType.Tsymlink: return { type, tag, fid: r.u32(), name: r.str(), symtgt: r.str(), gid: r.u32() };
    case MsgType.Rsymlink: return { type, tag, qid: r.qid() };
    case MsgType.Tmknod: return { type, tag, dfid: r.u32(), name: r.str(), mode: r.u32(), major: r.u32(), minor: r.u32(), gid: r.u32() };
    case MsgType.Rmknod: return { type, tag, qid: r.qid() };
    case MsgType.Trename: return { type, tag, fid: r.u32(), dfid: r.u32(), name: r.str() };
    case MsgType.Rrename: return { type, tag };
    case MsgType.Treadlink: return { type, tag, fid: r.u32() };
    case MsgType.Rreadlink: return { type, tag, target: r.str() };
    case MsgType.Tgetattr: return { type, tag, fid: r.u32(), requestMask: r.u64() };
    case MsgType.Rgetattr:
      return {
        type, tag, valid: r.u64(), qid: r.qid(), mode: r.u32(), uid: r.u32(), gid: r.u32(), nlink: r.u64(),
        rdev: r.u64(), size: r.u64(), blksize: r.u64(), blocks: r.u64(), atimeSec: r.u64(), atimeNsec: r.u64(),
        mtimeSec: r.u64(), mtimeNsec: r.u64(), ctimeSec: r.u64(), ctimeNsec: r.u64(), btimeSec: r.u64(),
        btimeNsec: r.u64(), gen: r.u64(), dataVersion: r.u64(),
      };
    case MsgType.Tsetattr:
      return {
        type, tag, fid: r.u32(), valid: r.u32(), mode: r.u32(), uid: r.u32(), gid: r.u32(), size: r.u64(),
        atimeSec: r.u64(), atimeNsec: r.u64(), mtimeSec: r.u64(), mtimeNsec: r.u64(),
      };
    case MsgType.Rsetattr: return { type, tag };
    case MsgType.Txattrwalk: return { type, tag, fid: r.u32(), newfid: r.u32(), name: r.str() };
    case MsgType.Rxattrwalk: return { type, tag, size: r.u64() };
    case MsgType.Txattrcreate: return { type, tag, fid: r.u32(), name: r.str(), attrSize: r.u64(), flags: r.u32() };
    case MsgType.Rxattrcreate: return { type, tag };
    case MsgType.Treaddir: {
      const fid = r.u32(), off = r.u64big(), count = r.u32();
      return off > MAX_EXACT ? { type, tag, fid, offset: Number(off), count, cookie: off } : { type, tag, fid, offset: Number(off), count };
    }
    case MsgType.Rreaddir: return { type, tag, data: r.bytes(r.u32()) };
    case MsgType.Tfsync: return { type, tag, fid: r.u32(), datasync: r.u32() };
    case MsgType.Rfsync: return { type, tag };
    case MsgType.Tlock:
      return {
        type, tag, fid: r.u32(), lockType: r.u8(), flags: r.u32(), start: r.u64(), length: r.u64(),
        procId: r.u32(), clientId: r.str(),
      };
    case MsgType.Rlock: return { type, tag, status: r.u8() };
    case MsgType.Tgetlock:
      return { type, tag, fid: r.u32(), lockType: r.u8(), start: r.u64(), length: r.u64(), procId: r.u32(), clientId: r.str() };
    case MsgType.Rgetlock:
      return { type, tag, lockType: r.u8(), start: r.u64(), length: r.u64(), procId: r.u32(), clientId: r.str() };
    case MsgType.Tlink: return { type, tag, dfid: r.u32(), fid: r.u32(), name: r.str() };
    case MsgType.Rlink: return { type, tag };
    case MsgType.Tmkdir: return { type, tag, dfid: r.u32(), name: r.str(), mode: r.u32(), gid: r.u32() };
    case MsgType.Rmkdir: return { type, tag, qid: r.qid() };
    case MsgType.Trenameat: return { type, tag, olddirfid: r.u32(), oldname: r.str(), newdirfid: r.u32(), newname: r.str() };
    case MsgType.Rrenameat: return { type, tag };
    case MsgType.Tunlinkat: return { type, tag, dirfd: r.u32(), name: r.str(), flags: r.u32() };
    case MsgType.Runlinkat: return { type, tag };
    default: throw malformed(`unknown message type ${type}`);
  }
}

/** Rstat/Twstat carry n[2] before the stat record, which has its own size[2]. */
function readSizedDir(r: Reader, d: Dialect) {
  const n = r.u16();
  r.need(n);
  const inner = new Reader(r.buf, r.pos, r.pos + n);
  const dir = readDir(inner, d);
  inner.done('stat');
  r.pos += n;
  return dir;
}

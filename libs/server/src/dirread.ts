/**
 * Directory reads. 9P2000/.u (read(5)): whole stat records only; the offset must be 0 (start
 * over) or where the previous read ended, else "bad offset in directory read"; a count too small
 * for the next entry is an error. 9P2000.L Treaddir: dirents with cookies.
 */
import {
  Ename, Errno, MsgType, NinepError, Writer, direntsFit, writeDir, writeDirent, type Dirent, type RMessage,
} from '@prose/protocol';
import { direntType } from './attr.js';
import { notSupported } from './enames.js';
import type { Fid } from './fid.js';
import { isThenable } from './reply.js';
import type { Req } from './req.js';
import type { Session } from './session.js';

function badCount(): NinepError {
  return new NinepError(Ename.badcount, Errno.EINVAL);
}

/** A writer for at most `count` bytes that starts small (a client may ask for megabytes). */
function writerFor(count: number): Writer {
  return new Writer(Math.max(64, Math.min(count, 8192)));
}

function postDirRead(s: Session, r: Req, data: unknown): RMessage {
  let b = data as Buffer;
  if (b.length > r.n) b = b.subarray(0, r.n);
  const f = r.fid!;
  if (s.isLive(r)) f.dirOffset = (r.ifcall as { offset: number }).offset + b.length;
  return { type: MsgType.Rread, tag: r.tag, data: b };
}

/** Tread on an open directory (checked by the caller: fid open for reading, count clamped). */
export function readDirectory(s: Session, r: Req, f: Fid, offset: number, count: number): unknown {
  if (offset !== 0 && offset !== f.dirOffset) throw new NinepError(Ename.badoffset, Errno.EINVAL);
  const srv = s.srv;
  if (srv.dirgen !== undefined) return readWithDirgen(s, r, f, offset, count);
  if (srv.read === undefined) throw new NinepError(Ename.noread, Errno.EACCES);
  r.n = count;
  r.post = postDirRead;
  return srv.read(f, offset, count, r);
}

async function readWithDirgen(s: Session, r: Req, f: Fid, offset: number, count: number): Promise<RMessage> {
  const srv = s.srv;
  const dialect = s.dialect ?? '9P2000';
  let index = offset === 0 ? 0 : f.dirIndex;
  const w = writerFor(count);
  for (;;) {
    const v = srv.dirgen!(f, index, r);
    const d = isThenable(v) ? await v : v;
    if (d === null || d === undefined) break;
    const at = w.pos;
    writeDir(w, d, dialect);
    if (w.pos > count) {
      w.pos = at;
      if (at === 0) throw badCount();
      break;
    }
    index++;
  }
  if (s.isLive(r)) {
    f.dirIndex = index;
    f.dirOffset = offset + w.pos;
  }
  return { type: MsgType.Rread, tag: r.tag, data: w.buf.subarray(0, w.pos) };
}

/**
 * Treaddir (checked by the caller: fid is an open directory, count clamped). From
 * `Srv.readdir` (Dirent objects, or dirents already encoded), else from `Srv.dirgen` with
 * cookie = index + 1. A count too small for the first entry is an error.
 */
export async function readdirL(s: Session, r: Req, f: Fid, offset: number, count: number): Promise<RMessage> {
  const srv = s.srv;
  if (srv.readdir !== undefined) {
    const v = srv.readdir(f, offset, count, r);
    const ents = isThenable<Dirent[] | Buffer>(v) ? await v : v;
    if (!Array.isArray(ents)) return { type: MsgType.Rreaddir, tag: r.tag, data: fitEncoded(ents, count) };
    const w = writerFor(count);
    for (const e of ents) {
      const at = w.pos;
      writeDirent(w, e);
      if (w.pos > count) {
        if (at === 0) throw badCount();
        w.pos = at;
        break;
      }
    }
    return { type: MsgType.Rreaddir, tag: r.tag, data: w.buf.subarray(0, w.pos) };
  }
  if (srv.dirgen === undefined) throw notSupported();
  const w = writerFor(count);
  let index = offset;
  for (;;) {
    const v = srv.dirgen(f, index, r);
    const d = isThenable(v) ? await v : v;
    if (d === null || d === undefined) break;
    const at = w.pos;
    writeDirent(w, { qid: d.qid, offset: index + 1, type: direntType(d), name: d.name });
    if (w.pos > count) {
      if (at === 0) throw badCount();
      w.pos = at;
      break;
    }
    index++;
  }
  return { type: MsgType.Rreaddir, tag: r.tag, data: w.buf.subarray(0, w.pos) };
}

/** The whole entries of encoded dirents `data` that fit in `count` (none fitting: an error). */
function fitEncoded(data: Buffer, count: number): Buffer {
  if (data.length <= count) return data;
  const n = direntsFit(data, count);
  if (n === 0) throw badCount();
  return data.subarray(0, n);
}

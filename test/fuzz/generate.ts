/**
 * Frame generators for protocol fuzzing: well-formed messages with hostile field values
 * (biased towards fids, tags and names a live session really has), and byte-level mutations
 * of them. Seeded, so a failing run can be replayed from the seed it prints.
 */
import { MsgType, NOFID, encode, type Dialect, type Dir, type Fcall, type Qid } from '@prose/protocol';

export type Rng = () => number;

export { seeded } from '../support/prng.js';

const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const NAMES = ['', '.', '..', 'a', 'b', 'dir', 'null', 'block', 'clone', 'ctl', 'x'.repeat(300), 'a/b', '\u0000', '✓', 'new', 'file'];

function u32(r: Rng): number {
  switch (int(r, 6)) {
    case 0: return 0;
    case 1: return 0xffffffff;
    case 2: return int(r, 8);
    case 3: return int(r, 0x100000000);
    case 4: return 0x7fffffff;
    default: return int(r, 4096);
  }
}

const fid = (r: Rng) => (r() < 0.85 ? int(r, 8) : r() < 0.5 ? NOFID : u32(r));
const u64 = (r: Rng) => pick(r, [0, 1, 4096, 2 ** 32, 2 ** 53 - 1, int(r, 1 << 20)]);
const u8 = (r: Rng) => int(r, 256);
const name = (r: Rng) => pick(r, NAMES);
const qid = (r: Rng): Qid => ({ type: u8(r), version: u32(r), path: BigInt(int(r, 1000)) });
const data = (r: Rng) => Buffer.alloc(pick(r, [0, 1, 7, 64, 1000, 9000]), int(r, 256));

function dir(r: Rng): Dir {
  return {
    type: int(r, 0x10000), dev: u32(r), qid: qid(r), mode: u32(r), atime: u32(r), mtime: u32(r), length: u64(r),
    name: name(r), uid: pick(r, ['', 'glenda', 'x']), gid: '', muid: '', extension: '', nUid: u32(r), nGid: u32(r), nMuid: u32(r),
  };
}

/**
 * A random T-message (and now and then an R-message, which a server must refuse). With
 * `keepVersion` no Tversion is generated, so the session's dialect stays what the caller set.
 */
export function randomFcall(r: Rng, keepVersion = false): Fcall {
  const tag = r() < 0.9 ? int(r, 32) : pick(r, [0xffff, int(r, 0x10000)]);
  const t = keepVersion ? 1 + int(r, 35) : int(r, 36);
  switch (t) {
    case 0: return { type: MsgType.Tversion, tag, msize: pick(r, [0, 100, 8192, 1 << 20, 0xffffffff]), version: pick(r, ['9P2000', '9P2000.L', '9P2000.u', 'bogus', '']) };
    case 1: return { type: MsgType.Tauth, tag, afid: fid(r), uname: 'glenda', aname: '', nUname: u32(r) };
    case 2: case 3: return { type: MsgType.Tattach, tag, fid: fid(r), afid: r() < 0.8 ? NOFID : fid(r), uname: pick(r, ['glenda', '', 'root']), aname: pick(r, ['', '/', 'main', 'bogus']), nUname: u32(r) };
    case 4: return { type: MsgType.Tflush, tag, oldtag: int(r, 40) };
    case 5: case 6: case 7: return { type: MsgType.Twalk, tag, fid: fid(r), newfid: fid(r), wname: Array.from({ length: pick(r, [0, 1, 2, 3, 16, 17, 40]) }, () => name(r)) };
    case 8: case 9: return { type: MsgType.Topen, tag, fid: fid(r), mode: u8(r) };
    case 10: return { type: MsgType.Tcreate, tag, fid: fid(r), name: name(r), perm: u32(r), mode: u8(r), extension: pick(r, ['', '/etc', 'b 1 2']) };
    case 11: case 12: return { type: MsgType.Tread, tag, fid: fid(r), offset: u64(r), count: u32(r) };
    case 13: case 14: return { type: MsgType.Twrite, tag, fid: fid(r), offset: u64(r), data: data(r) };
    case 15: return { type: MsgType.Tclunk, tag, fid: fid(r) };
    case 16: return { type: MsgType.Tremove, tag, fid: fid(r) };
    case 17: return { type: MsgType.Tstat, tag, fid: fid(r) };
    case 18: return { type: MsgType.Twstat, tag, fid: fid(r), stat: dir(r) };
    case 19: return { type: MsgType.Tlopen, tag, fid: fid(r), flags: u32(r) };
    case 20: return { type: MsgType.Tlcreate, tag, fid: fid(r), name: name(r), flags: u32(r), mode: u32(r), gid: u32(r) };
    case 21: return { type: MsgType.Tgetattr, tag, fid: fid(r), requestMask: u64(r) };
    case 22: return { type: MsgType.Tsetattr, tag, fid: fid(r), valid: u32(r), mode: u32(r), uid: u32(r), gid: u32(r), size: u64(r), atimeSec: u64(r), atimeNsec: u64(r), mtimeSec: u64(r), mtimeNsec: u64(r) };
    case 23: return { type: MsgType.Treaddir, tag, fid: fid(r), offset: u64(r), count: u32(r) };
    case 24: return { type: MsgType.Tmkdir, tag, dfid: fid(r), name: name(r), mode: u32(r), gid: u32(r) };
    case 25: return { type: MsgType.Tunlinkat, tag, dirfd: fid(r), name: name(r), flags: u32(r) };
    case 26: return { type: MsgType.Trenameat, tag, olddirfid: fid(r), oldname: name(r), newdirfid: fid(r), newname: name(r) };
    case 27: return { type: MsgType.Txattrwalk, tag, fid: fid(r), newfid: fid(r), name: name(r) };
    case 28: return { type: MsgType.Tlock, tag, fid: fid(r), lockType: u8(r), flags: u32(r), start: u64(r), length: u64(r), procId: u32(r), clientId: name(r) };
    case 29: return { type: MsgType.Tstatfs, tag, fid: fid(r) };
    case 30: return { type: MsgType.Tsymlink, tag, fid: fid(r), name: name(r), symtgt: name(r), gid: u32(r) };
    case 31: return { type: MsgType.Tmknod, tag, dfid: fid(r), name: name(r), mode: u32(r), major: u32(r), minor: u32(r), gid: u32(r) };
    case 32: return { type: MsgType.Tlink, dfid: fid(r), tag, fid: fid(r), name: name(r) };
    case 33: return { type: MsgType.Tfsync, tag, fid: fid(r), datasync: u32(r) };
    case 34: return { type: MsgType.Rread, tag, data: data(r) };
    default: return { type: MsgType.Rerror, tag, ename: 'x', errno: 1 };
  }
}

/**
 * Mutates a frame in place or by resizing, always keeping a size field that matches the new
 * length (so the framer accepts it and the decoder and server get to see it).
 */
export function mutate(r: Rng, frame: Buffer): Buffer {
  let b = Buffer.from(frame);
  const n = 1 + int(r, 4);
  for (let i = 0; i < n; i++) {
    switch (int(r, 6)) {
      case 0: { const at = 4 + int(r, b.length - 4); b[at] = b[at]! ^ (1 << int(r, 8)); break; }
      case 1: { const at = 4 + int(r, b.length - 4); b[at] = u8(r); break; }
      case 2: if (b.length > 8) b = b.subarray(0, 7 + int(r, b.length - 7)); break;
      case 3: b = Buffer.concat([b, Buffer.alloc(1 + int(r, 16), u8(r))]); break;
      case 4: if (b.length >= 9) { const at = 7 + int(r, b.length - 8); b.writeUInt16LE(pick(r, [0, 0xffff, int(r, 0x10000)]), Math.min(at, b.length - 2)); } break;
      default: b[4] = pick(r, [0, 6, 7, 99, 100, 106, 107, 128, 255, u8(r)]); break;
    }
  }
  const out = Buffer.from(b);
  out.writeUInt32LE(out.length, 0);
  return out;
}

/**
 * One fuzz frame: a well-formed random message, mutated with probability `mutateRate` (a
 * mutated frame is usually undecodable, which ends the session). Never has a bad size field.
 */
export function fuzzFrame(r: Rng, dialect: Dialect, mutateRate = 0.5): Buffer {
  const f = randomFcall(r, mutateRate === 0);
  let frame: Buffer;
  try {
    frame = encode(f, dialect);
  } catch {
    frame = Buffer.from([7, 0, 0, 0, MsgType.Tclunk, 0, 0]);
  }
  return r() < mutateRate ? mutate(r, frame) : frame;
}

/** A frame whose size field is impossible (too small, or beyond any msize). */
export function badSizeFrame(r: Rng): Buffer {
  const b = Buffer.alloc(11);
  b.writeUInt32LE(pick(r, [0, 3, 6, 0x7fffffff, 0xffffffff, 64 << 20]), 0);
  b[4] = MsgType.Tclunk;
  return b;
}

/**
 * Readdir cookies above 2^53. ext4 (through diod) hands out 63-bit hash cookies, e.g.
 * 0x7fffffffffffffff for end-of-directory; as a plain number they were rounded, so a client that
 * continued a listing from a rounded cookie skipped or repeated entries (found against diod with
 * 1,000 files read 4 KiB at a time: 3 names missing).
 */
import { MsgType } from './constants.js';
import { decode, encode } from './codec.js';
import { packDirents, unpackDirents } from './dir.js';
import { formatFcall, parseFcall } from './text.js';
import type { Dirent, Treaddir } from './fcall.js';

const BIG = 0x7fffffffffffffffn;
const HASHY = 0x1055e7b3c0ffee01n;

test('unpackDirents keeps cookies above 2^53 exact in `cookie`, and packDirents writes them back', () => {
  const qid = { type: 0, version: 0, path: 7n };
  const entries: Dirent[] = [
    { qid, offset: 5, type: 8, name: 'small' },
    { qid, offset: Number(HASHY), cookie: HASHY, type: 8, name: 'hashed' },
    { qid, offset: Number(BIG), cookie: BIG, type: 8, name: 'last' },
  ];
  const { data } = packDirents(entries, 4096);
  expect(data.readBigUInt64LE(13 + 13 + 8 + 1 + 2 + 5)).toBe(HASHY);
  const back = unpackDirents(data);
  expect(back[0]).toEqual({ qid, offset: 5, type: 8, name: 'small' });
  expect('cookie' in back[0]!).toBe(false);
  expect(back[1]!.cookie).toBe(HASHY);
  expect(back[2]!.cookie).toBe(BIG);
});

test('Treaddir carries an exact cookie on the wire and back', () => {
  const t: Treaddir = { type: MsgType.Treaddir, tag: 1, fid: 2, offset: Number(BIG), cookie: BIG, count: 4096 };
  const frame = encode(t, '9P2000.L');
  expect(frame.readBigUInt64LE(11)).toBe(BIG);
  const d = decode(frame, '9P2000.L') as Treaddir;
  expect(d.cookie).toBe(BIG);
  expect(d.count).toBe(4096);
  expect(encode(d, '9P2000.L').equals(frame)).toBe(true);
  const small = decode(encode({ type: MsgType.Treaddir, tag: 1, fid: 2, offset: 9, count: 10 }, '9P2000.L'), '9P2000.L');
  expect(small).toEqual({ type: MsgType.Treaddir, tag: 1, fid: 2, offset: 9, count: 10 });
  expect(parseFcall(formatFcall(d))).toEqual(d);
});

/**
 * DirentList and the dirent codec: the encoded listing must be byte for byte what writeDirent
 * (and so packDirents) makes, and every view it hands out must hold whole entries only.
 */
import { packDirents, direntSize, direntsFit, unpackDirents, writeDirent } from './dir.js';
import { DirentList } from './dirent-list.js';
import type { Dirent } from './fcall.js';
import { Writer } from './wire.js';

const NAMES = ['.', '..', 'a', 'plain-name', 'ünïcödé', '日本語のファイル', '😀 emoji', 'x'.repeat(255), 'tab\there', ''];

function entries(): Dirent[] {
  return NAMES.map((name, i) => ({
    qid: { type: i % 2 ? 0x80 : 0, version: i * 0x01010101, path: i === 7 ? 0xfedc_ba98_7654_3210n : BigInt(i) * 0x1_0000_0001n },
    offset: i === 8 ? 2 ** 40 + 3 : i + 1,
    type: i % 2 ? 4 : 8,
    name,
  }));
}

/** The reference encoding: one field at a time through the Writer's own methods. */
function reference(e: Dirent): Buffer {
  const w = new Writer(16);
  w.qid(e.qid);
  if (e.cookie !== undefined) w.u64big(e.cookie);
  else w.u64(e.offset);
  w.u8(e.type);
  w.str(e.name);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

test('writeDirent writes the same bytes as the field-by-field encoding, and direntSize counts them', () => {
  const ents = entries();
  ents.push({ qid: { type: 0, version: 0, path: 5n }, offset: 9, cookie: 0x7fff_ffff_ffff_ffffn, type: 8, name: 'hashed' });
  for (const e of ents) {
    const w = new Writer(8);
    writeDirent(w, e);
    const got = w.buf.subarray(0, w.pos);
    expect(got).toEqual(reference(e));
    expect(got.length).toBe(direntSize(e.name));
  }
});

test('DirentList.push and pushParts encode as writeDirent; views are whole entries', () => {
  const ents = entries();
  const a = new DirentList(16, 1);
  for (const e of ents) a.push(e);
  const all = Buffer.concat(ents.map(reference));
  expect(a.length).toBe(ents.length);
  expect(a.bytes(0, a.length)).toEqual(all);
  expect(unpackDirents(a.bytes(0, a.length))).toEqual(ents);
  for (let i = 0; i < ents.length; i++) {
    expect(a.name(i)).toBe(ents[i]!.name);
    expect(a.dirent(i)).toEqual(ents[i]);
    expect(a.qid(i)).toEqual(ents[i]!.qid);
    expect(a.type(i)).toBe(ents[i]!.type);
  }
  // The parts form: names from one UTF-8 buffer, qid.path as two 32-bit halves.
  const names = Buffer.from(ents.map((e) => e.name).join('/'));
  const b = new DirentList(16, 1);
  let p = 0;
  for (const e of ents) {
    const n = Buffer.byteLength(e.name);
    const path = e.qid.path;
    b.pushParts(e.qid.type, e.qid.version, Number(path & 0xffffffffn), Number(path >> 32n), e.offset % 2 ** 32, e.type, names, p, p + n);
    p += n + 1;
  }
  const expected = ents.map((e) => ({ ...e, offset: e.offset % 2 ** 32 }));
  expect(b.bytes(0, b.length)).toEqual(Buffer.concat(expected.map(reference)));
});

test('DirentList.fromEncoded takes a buffer of encoded entries and their starts as they are; pushing after grows it', () => {
  const ents = entries();
  const buf = Buffer.concat(ents.map(reference));
  const starts = new Uint32Array(ents.length + 1);
  let p = 0;
  ents.forEach((e, i) => (starts[i + 1] = p += reference(e).length));
  const l = DirentList.fromEncoded(buf, starts);
  expect(l.length).toBe(ents.length);
  expect(l.byteLength).toBe(buf.length);
  // No copy: the views are of the buffer given.
  expect(l.bytes(0, l.length).buffer).toBe(buf.buffer);
  for (let i = 0; i < ents.length; i++) expect(l.dirent(i)).toEqual(ents[i]);
  expect(l.fit(2, starts[4]! - starts[2]!)).toBe(4);
  l.push(ents[2]!);
  expect(l.dirent(ents.length)).toEqual(ents[2]);
  expect(l.bytes(0, l.length)).toEqual(Buffer.concat([buf, reference(ents[2]!)]));
});

test('fit and direntsFit take the longest run of whole entries within count, as packDirents does', () => {
  const ents = entries();
  const l = new DirentList();
  for (const e of ents) l.push(e);
  const total = l.byteLength;
  const differ: string[] = [];
  for (let from = 0; from <= ents.length; from++) {
    for (let count = 0; count <= total + 2; count++) {
      const end = l.fit(from, count);
      const { data, n } = packDirents(ents.slice(from), count);
      const rest = l.bytes(from, l.length);
      if (end - from !== n || !l.bytes(from, end).equals(data) || direntsFit(rest, count) !== data.length) {
        differ.push(`from ${from} count ${count}`);
      }
    }
  }
  expect(differ).toEqual([]);
});

test('setQid and setType rewrite one entry in place', () => {
  const l = new DirentList();
  for (const e of entries()) l.push(e);
  const before = Buffer.from(l.bytes(0, l.length));
  const q = { type: 0x02, version: 7, path: 123456789012345n };
  l.setQid(4, q);
  l.setType(4, 10);
  const after = unpackDirents(l.bytes(0, l.length));
  expect(after[4]).toEqual({ ...entries()[4], qid: q, type: 10 });
  expect(l.bytes(0, 4)).toEqual(before.subarray(0, l.bytes(0, 4).length));
  expect(l.bytes(5, l.length)).toEqual(before.subarray(before.length - l.bytes(5, l.length).length));
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PosixError, getdents, readDirectory, readDirectoryEncoded, readDirectoryJoined, readDirents } from './index.js';

const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;
const DT_FIFO = 1;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-dents-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('every entry once, with the inode number and type lstat gives', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `f-${i}-${'é'.repeat(i % 7)}`);
  for (const n of names) fs.writeFileSync(path.join(dir, n), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.symlinkSync('nowhere', path.join(dir, 'link'));
  spawnSync('mkfifo', [path.join(dir, 'fifo')]);
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const all = readDirents(fd);
    expect(all.map((e) => e.name).sort()).toEqual([...names, 'sub', 'link', 'fifo'].sort());
    for (const e of all) expect(e.ino).toBe(fs.lstatSync(path.join(dir, e.name), { bigint: true }).ino);
    const by = new Map(all.map((e) => [e.name, e]));
    expect(by.get('sub')!.type).toBe(DT_DIR);
    expect(by.get('link')!.type).toBe(DT_LNK);
    expect(by.get('fifo')!.type).toBe(DT_FIFO);
    expect(by.get('f-1-é')!.type).toBe(DT_REG);
    const fd2 = fs.openSync(dir, 'r');
    const d = readDirectory(fd2);
    fs.closeSync(fd2);
    d.names.forEach((n, i) => expect(d.nameBytes[i]).toBe(Buffer.byteLength(n)));
    expect(getdents(fd)).toEqual([]);
    expect(readDirents(fd)).toEqual([]);
  } finally {
    fs.closeSync(fd);
  }
});

test('one batch includes "." and ".." with offsets that grow', () => {
  fs.writeFileSync(path.join(dir, 'a'), '');
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const b = getdents(fd);
    expect(b.map((e) => e.name).sort()).toEqual(['.', '..', 'a']);
    expect(b.find((e) => e.name === '.')!.ino).toBe(fs.statSync(dir, { bigint: true }).ino);
  } finally {
    fs.closeSync(fd);
  }
});

test('errors: a file is ENOTDIR, a buffer too small for one entry EINVAL', () => {
  fs.writeFileSync(path.join(dir, 'plain'), '');
  const ffd = fs.openSync(path.join(dir, 'plain'), 'r');
  const dfd = fs.openSync(dir, 'r');
  try {
    expect(() => getdents(ffd)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => getdents(dfd, Buffer.alloc(8))).toThrow(PosixError);
    expect(() => getdents(dfd, Buffer.alloc(8))).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'getdents64' }));
  } finally {
    fs.closeSync(ffd);
    fs.closeSync(dfd);
  }
});

test('readDirectory: names, inode numbers and types in parallel arrays; an empty directory is empty', () => {
  fs.writeFileSync(path.join(dir, 'x'), '');
  fs.mkdirSync(path.join(dir, 'y'));
  fs.mkdirSync(path.join(dir, 'empty'));
  const fd = fs.openSync(dir, 'r');
  const efd = fs.openSync(path.join(dir, 'empty'), 'r');
  try {
    const d = readDirectory(fd);
    const got = d.names.map((n, i) => [n, d.inos[i], d.types[i], d.nameBytes[i]]).sort();
    expect(got).toEqual([
      ['empty', fs.statSync(path.join(dir, 'empty'), { bigint: true }).ino, DT_DIR, 5],
      ['x', fs.statSync(path.join(dir, 'x'), { bigint: true }).ino, DT_REG, 1],
      ['y', fs.statSync(path.join(dir, 'y'), { bigint: true }).ino, DT_DIR, 1],
    ]);
    expect(readDirectory(efd)).toEqual({ names: [], inos: new BigUint64Array(0), types: new Uint8Array(0), nameBytes: new Uint16Array(0) });
  } finally {
    fs.closeSync(fd);
    fs.closeSync(efd);
  }
});

test('readDirectoryJoined: the same listing with the names in one string, "/" between them', () => {
  for (const n of ['a', 'ünï', 'b c', '日本']) fs.writeFileSync(path.join(dir, n), '');
  fs.mkdirSync(path.join(dir, 'empty'));
  const fd = fs.openSync(dir, 'r');
  const fd2 = fs.openSync(dir, 'r');
  const efd = fs.openSync(path.join(dir, 'empty'), 'r');
  try {
    const j = readDirectoryJoined(fd);
    const d = readDirectory(fd2);
    expect(j.joined.split('/')).toEqual(d.names);
    expect([j.inos, j.types, j.nameBytes]).toEqual([d.inos, d.types, d.nameBytes]);
    expect(readDirectoryJoined(efd).joined).toBe('');
  } finally {
    fs.closeSync(fd);
    fs.closeSync(fd2);
    fs.closeSync(efd);
  }
});

test('readDirectoryEncoded: the 9P2000.L dirents of every entry, cookies from firstCookie, qid.path xor top', () => {
  const names = Array.from({ length: 2500 }, (_, i) => `e-${i}-${'ü'.repeat(i % 5)}${i % 3 === 0 ? '日本' : ''}${i % 97 === 0 ? '😀' : ''}`);
  for (const n of names) fs.writeFileSync(path.join(dir, n), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.symlinkSync('nowhere', path.join(dir, 'link'));
  spawnSync('mkfifo', [path.join(dir, 'fifo')]);
  const open = () => fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const top = 3n << 56n;
  let fd = open();
  const e = readDirectoryEncoded(fd, top, 7)!;
  fs.closeSync(fd);
  fd = open();
  const d = readDirectory(fd);
  fs.closeSync(fd);
  expect(e.ends.length).toBe(d.names.length);
  expect(e.unknown.length).toBe(0);
  // Decoded by hand, field by field, against getdents through readDirectory.
  let p = 0;
  for (let i = 0; i < d.names.length; i++) {
    const r = e.records.subarray(p, e.ends[i]);
    const t = d.types[i]!;
    expect(r[0]).toBe(t === DT_DIR ? 0x80 : t === DT_LNK ? 0x02 : 0);
    expect(r.readUInt32LE(1)).toBe(0);
    expect(r.readBigUInt64LE(5)).toBe(d.inos[i]! ^ top);
    expect(r.readBigUInt64LE(13)).toBe(BigInt(7 + i));
    expect(r[21]).toBe(t);
    expect(r.readUInt16LE(22)).toBe(d.nameBytes[i]);
    expect(r.subarray(24).toString('utf8')).toBe(d.names[i]);
    p = e.ends[i]!;
  }
  expect(p).toBe(e.records.length);
});

test('readDirectoryEncoded with a prefix: the records begin with it, the ends count it', () => {
  for (const n of ['a', 'bb', 'ccc']) fs.writeFileSync(path.join(dir, n), '');
  const open = () => fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  let fd = open();
  const plain = readDirectoryEncoded(fd, 0n, 3)!;
  fs.closeSync(fd);
  const prefix = Buffer.from('encoded-before');
  fd = open();
  const e = readDirectoryEncoded(fd, 0n, 3, prefix)!;
  fs.closeSync(fd);
  expect(e.records).toEqual(Buffer.concat([prefix, plain.records]));
  expect(Array.from(e.ends)).toEqual(Array.from(plain.ends, (x) => x + prefix.length));
  fd = open();
  try {
    expect(() => readDirectoryEncoded(fd, 0n, 3, 'not a buffer' as unknown as Buffer)).toThrow(expect.objectContaining({ name: 'TypeError' }));
  } finally {
    fs.closeSync(fd);
  }
});

test('readDirectoryEncoded: undefined for a name that is not UTF-8; empty and bad descriptors', () => {
  const empty = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const e = readDirectoryEncoded(empty, 0n, 3)!;
  fs.closeSync(empty);
  expect([e.records.length, e.ends.length, e.unknown.length]).toEqual([0, 0, 0]);
  fs.writeFileSync(path.join(dir, 'fine'), '');
  // Invalid UTF-8 of each kind: a stray continuation byte, an overlong form, a surrogate, a cut sequence.
  for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe6, 0x97]]) {
    const p = Buffer.concat([Buffer.from(`${dir}/x-`), Buffer.from(bad)]);
    fs.writeFileSync(p, '');
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      expect(readDirectoryEncoded(fd, 0n, 3)).toBeUndefined();
    } finally {
      fs.closeSync(fd);
    }
    fs.unlinkSync(p);
  }
  expect(() => readDirectoryEncoded(987654, 0n, 3)).toThrow(expect.objectContaining({ code: 'EBADF' }));
});

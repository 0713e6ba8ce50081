/**
 * MappedReads' slots on real files: a slot read from in this turn of the event loop is never
 * mapped over (a view handed out keeps its bytes until the reply is written), the least recently
 * read slot goes to a new reader after it, a released fid's file is let go, and reads past the
 * end of a file or not in memory are left to the usual path.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileMap } from '@prose/posix';
import { MappedReads, type MapHolder } from './mapread.js';

const MIB = 1024 * 1024;
const SLOTS = 32;
const turn = () => new Promise((r) => setImmediate(r));

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 17 + (i >> 9)) & 0xff;
  return b;
}

const mapped = (file: string) => fs.readFileSync('/proc/self/maps', 'utf8').includes(file);

const maybe = fileMap() !== undefined ? describe : describe.skip;

maybe('MappedReads', () => {
  let dir: string;
  const fds: number[] = [];
  const files: string[] = [];
  const datas: Buffer[] = [];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-mapread-'));
    for (let i = 0; i < SLOTS + 2; i++) {
      const file = path.join(dir, `f${i}`);
      datas.push(pattern(MIB, i));
      fs.writeFileSync(file, datas[i]!);
      files.push(file);
      fds.push(fs.openSync(file, 'r'));
    }
  });
  afterAll(() => {
    for (const fd of fds) fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('slots read from in this turn are not mapped over; the least recently read goes to the next reader after it', async () => {
    const mr = MappedReads.create(64 * 1024)!;
    const holders: MapHolder[] = fds.map(() => ({}));
    const views = fds.map((fd, i) => mr.read(holders[i]!, fd, 0, MIB));
    // Every slot pinned by this turn's views: the last two readers are told to read the usual way.
    expect(views.slice(0, SLOTS).every((v) => v !== undefined)).toBe(true);
    expect(views.slice(SLOTS)).toEqual([undefined, undefined]);
    // (Safe to read in user mode here: nothing truncates these files.)
    for (let i = 0; i < SLOTS; i++) expect(views[i]!.equals(datas[i]!)).toBe(true);
    await turn();
    // Next turn: file 32 takes the least recently read slot, file 0's.
    const v = mr.read(holders[SLOTS]!, fds[SLOTS]!, 4096, 8192);
    expect(v!.equals(datas[SLOTS]!.subarray(4096, 4096 + 8192))).toBe(true);
    expect(holders[0]!.map).toBeUndefined();
    expect(mapped(files[0]!)).toBe(false);
    // File 0 reads again (taking the next least recently read slot, file 1's).
    expect(mr.read(holders[0]!, fds[0]!, 0, 100)!.equals(datas[0]!.subarray(0, 100))).toBe(true);
    expect(holders[1]!.map).toBeUndefined();
    for (const h of holders) mr.release(h);
    await turn();
    expect(files.some(mapped)).toBe(false);
  });

  test('the end of the file: short at it, empty past it; a descriptor that cannot be mapped is left to pread for good', async () => {
    const mr = MappedReads.create(64 * 1024)!;
    const h: MapHolder = {};
    expect(mr.read(h, fds[0]!, MIB - 10, MIB)!.equals(datas[0]!.subarray(MIB - 10))).toBe(true);
    expect(mr.read(h, fds[0]!, MIB, MIB)!.length).toBe(0);
    expect(mr.read(h, fds[0]!, 5 * MIB, MIB)!.length).toBe(0);
    mr.release(h);
    const wfd = fs.openSync(path.join(dir, 'w'), 'w');
    try {
      fs.writeSync(wfd, Buffer.alloc(MIB, 1));
      const w: MapHolder = {};
      expect(mr.read(w, wfd, 0, MIB)).toBeUndefined();
      expect(w.map).toBeNull();
    } finally {
      fs.closeSync(wfd);
    }
    await turn();
  });

  test('off when the minimum is 0', () => {
    expect(MappedReads.create(0)).toBeUndefined();
  });
});

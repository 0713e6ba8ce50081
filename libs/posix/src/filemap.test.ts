/**
 * The mapping calls (native/filemap.c) on real files: an arena's ranges mapped and let go,
 * residency, and copies through the kernel that survive a truncated file (zeros, no SIGBUS).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { havePosix } from './native.js';
import { fileMap } from './filemap.js';

const maybe = havePosix() ? describe : describe.skip;
const PAGE = 4096;
const MIB = 1024 * 1024;

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 12)) & 0xff;
  return b;
}

/** Lines of /proc/self/maps naming `file`. */
function mapsOf(file: string): string[] {
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(file));
}

maybe('file mappings', () => {
  const fm = fileMap()!;
  let dir: string;
  let arena: Buffer;
  beforeAll(() => {
    expect(fm).toBeDefined();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-filemap-'));
    const a = fm.reserveArena(4 * MIB);
    if (typeof a === 'number') throw new Error(`reserveArena: ${a}`);
    arena = a;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a file mapped into the arena is copied out whole by the kernel, and let go by unmapFrom', () => {
    const file = path.join(dir, 'whole');
    const data = pattern(3 * MIB);
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r');
    try {
      expect(fm.mapInto(arena, MIB, fd, MIB, 2 * MIB)).toBe(0);
      expect(mapsOf(file).length).toBe(1);
      const r = fm.copyMapped(arena, MIB + 100, MIB);
      if (typeof r === 'number') throw new Error(`copyMapped: ${r}`);
      expect(r[1]).toBe(MIB);
      expect(r[0].equals(data.subarray(MIB + 100, 2 * MIB + 100))).toBe(true);
      // Just read: in memory.
      expect(fm.residentPages(arena, MIB, 2 * MIB)).toBe(1);
      expect(fm.unmapFrom(arena, MIB, 2 * MIB)).toBe(0);
      expect(mapsOf(file)).toEqual([]);
      // Reserved again: the kernel cannot read it, and says so with zeros, not a signal.
      const gone = fm.copyMapped(arena, MIB, 16);
      if (typeof gone === 'number') throw new Error(`copyMapped: ${gone}`);
      expect(gone[1]).toBe(0);
      expect(gone[0].equals(Buffer.alloc(16))).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('a file truncated under its mapping reads as zeros past its new end, through the kernel', () => {
    const file = path.join(dir, 'shrinks');
    const data = pattern(MIB);
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r+');
    try {
      expect(fm.mapInto(arena, 0, fd, 0, MIB)).toBe(0);
      fs.ftruncateSync(fd, 10_000);
      const r = fm.copyMapped(arena, 0, 3 * PAGE);
      if (typeof r === 'number') throw new Error(`copyMapped: ${r}`);
      // The page holding the new end is still there (zeros after the end); the next ones are not.
      expect(r[1]).toBe(3 * PAGE);
      expect(r[0].subarray(0, 10_000).equals(data.subarray(0, 10_000))).toBe(true);
      expect(r[0].subarray(10_000).equals(Buffer.alloc(3 * PAGE - 10_000))).toBe(true);
      const past = fm.copyMapped(arena, 4 * PAGE, PAGE);
      if (typeof past === 'number') throw new Error(`copyMapped: ${past}`);
      expect(past[1]).toBe(0);
      expect(past[0].equals(Buffer.alloc(PAGE))).toBe(true);
      expect(fm.unmapFrom(arena, 0, MIB)).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('bad arguments: errno for what the system refuses, a TypeError for what is not a range of the arena', () => {
    const file = path.join(dir, 'small');
    fs.writeFileSync(file, 'x');
    const fd = fs.openSync(file, 'r');
    try {
      expect(fm.mapInto(arena, 0, 1_000_000, 0, PAGE)).toBe(-9); // EBADF
      expect(fm.mapInto(arena, 0, fd, 100, PAGE)).toBe(-22); // EINVAL: offset not page-aligned
      expect(() => fm.mapInto(arena, 100, fd, 0, PAGE)).toThrow(/expected/);
      expect(() => fm.mapInto(arena, 0, fd, 0, 8 * MIB)).toThrow(/expected/);
      expect(() => fm.residentPages(arena, 0, 5 * MIB)).toThrow(/expected/);
      expect(() => fm.copyMapped(Buffer.alloc(4), 2, 4)).toThrow(/expected/);
      // A descriptor opened for writing only cannot be mapped for reading.
      const wfd = fs.openSync(file, 'w');
      try {
        expect(fm.mapInto(arena, 0, wfd, 0, PAGE)).toBe(-13); // EACCES
      } finally {
        fs.closeSync(wfd);
      }
      // After the failures the range is reserved again, not a hole.
      expect(fm.copyMapped(arena, 0, 8)).toEqual([Buffer.alloc(8), 0]);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('copyMapped copies ordinary memory too (the probe fileMap makes)', () => {
    const b = Buffer.from('hello, kernel');
    expect(fm.copyMapped(b, 7, 6)).toEqual([Buffer.from('kernel'), 6]);
  });
});

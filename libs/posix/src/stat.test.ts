import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fromNodeStats, fstat, haveStatx, lstat, lstatAt } from './index.js';
import { loadAddon } from './native.js';
import { u64 } from './stat.js';
import { posixCode, withoutAddon } from './test-util.js';

let base: string;
let dirfd: number;
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-stat-'));
  dirfd = fs.openSync(base, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
});
afterEach(() => {
  fs.closeSync(dirfd);
  fs.rmSync(base, { recursive: true, force: true });
});

test('the addon is built with statx here (the fast path is what the other tests check)', () => {
  expect(haveStatx()).toBe(true);
});

test('fstat, lstatAt and lstat agree field by field with Node\'s bigint stat', () => {
  const f = path.join(base, 'f');
  fs.writeFileSync(f, 'x'.repeat(5000));
  fs.utimesSync(f, 1_700_000_000.123456, 1_600_000_000.987654);
  fs.symlinkSync('f', path.join(base, 'link'));
  fs.mkdirSync(path.join(base, 'dir'));
  execFileSync('mkfifo', [path.join(base, 'fifo')]);
  const fd = fs.openSync(f, 'r');
  try {
    const cases: Array<[string, ReturnType<typeof fstat>, fs.BigIntStats]> = [
      ['fstat file', fstat(fd), fs.fstatSync(fd, { bigint: true })],
      ['fstat dir', fstat(dirfd), fs.fstatSync(dirfd, { bigint: true })],
      ['lstatAt symlink (not followed)', lstatAt(dirfd, 'link'), fs.lstatSync(path.join(base, 'link'), { bigint: true })],
      ['lstatAt dir', lstatAt(dirfd, 'dir'), fs.lstatSync(path.join(base, 'dir'), { bigint: true })],
      ['lstatAt fifo', lstatAt(dirfd, 'fifo'), fs.lstatSync(path.join(base, 'fifo'), { bigint: true })],
      ['lstat path', lstat(f), fs.lstatSync(f, { bigint: true })],
    ];
    for (const [what, got, node] of cases) {
      // Node's own numbers, converted the one way both paths share.
      expect([what, got]).toEqual([what, fromNodeStats(node)]);
    }
    const st = fstat(fd);
    expect(st.size).toBe(5000);
    expect([st.atimeSec, st.mtimeSec]).toEqual([1_700_000_000, 1_600_000_000]);
    expect(st.mtimeNsec).toBeGreaterThan(987_000_000);
    expect(lstatAt(dirfd, 'link').mode & fs.constants.S_IFMT).toBe(fs.constants.S_IFLNK);
  } finally {
    fs.closeSync(fd);
  }
});

test('failures are PosixErrors with the errno name; bad arguments are TypeErrors', () => {
  expect(posixCode(() => lstatAt(dirfd, 'missing'))).toBe('ENOENT');
  expect(posixCode(() => fstat(987654))).toBe('EBADF');
  expect(posixCode(() => lstatAt(dirfd, 'n'.repeat(300)))).toBe('ENAMETOOLONG');
  expect(posixCode(() => lstatAt(dirfd, 'a\0b'))).toBe('EINVAL');
  fs.writeFileSync(path.join(base, 'plain'), '');
  expect(posixCode(() => lstatAt(dirfd, 'plain/x'))).toBe('ENOTDIR');
  const statx = loadAddon().statx!;
  // (The addon's TypeError is of Node's realm, not the test's: matched by name and message.)
  const typeError = expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('statx(dirfd, name') });
  expect(() => statx(dirfd, '', 0x1000, new Float64Array(3))).toThrow(typeError);
  expect(() => statx(dirfd, '', 0x1000, new Uint8Array(160) as unknown as Float64Array)).toThrow(typeError);
  expect(() => statx('x' as unknown as number, '', 0x1000, new Float64Array(20))).toThrow(
    expect.objectContaining({ name: 'TypeError', message: '(directory descriptor, name) expected' }),
  );
});

test('device and inode numbers are exact on both sides of 2^53', () => {
  expect(u64(0, 12345)).toBe(12345n);
  expect(u64(0x1fffff, 0xffffffff)).toBe(2n ** 53n - 1n);
  expect(u64(0x200000, 0)).toBe(2n ** 53n);
  expect(u64(0xffffffff, 0xffffffff)).toBe(2n ** 64n - 1n);
  expect(u64(0x80000000, 1)).toBe(2n ** 63n + 1n);
});

test('without the addon the same calls answer through Node\'s stat, with the same result', () => {
  fs.writeFileSync(path.join(base, 'f'), 'abc');
  fs.symlinkSync('f', path.join(base, 'link'));
  withoutAddon<typeof import('./stat.js')>('./stat.js', (fresh) => {
    expect(fresh.haveStatx()).toBe(false);
    expect(fresh.fstat(dirfd)).toEqual(fstat(dirfd));
    expect(fresh.lstatAt(dirfd, 'link')).toEqual(lstatAt(dirfd, 'link'));
    expect(fresh.lstat(path.join(base, 'f'))).toEqual(lstat(path.join(base, 'f')));
    expect(() => fresh.lstatAt(dirfd, 'missing')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AT_REMOVEDIR, PosixError, haveAtCalls, mkdirat, openat, tryOpenat, unlinkat } from './index.js';
import { posixCode, withoutAddon } from './test-util.js';

const O_PATH = 0o10000000;
let base: string;
let dirfd: number;
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-at-'));
  fs.mkdirSync(path.join(base, 'd'));
  dirfd = fs.openSync(path.join(base, 'd'), O_PATH | fs.constants.O_DIRECTORY);
});
afterEach(() => {
  fs.closeSync(dirfd);
  fs.rmSync(base, { recursive: true, force: true });
});

test('openat creates and opens in the directory of the descriptor, which stays pinned when renamed', () => {
  // The directory moves: the descriptor still names it, a path would not.
  fs.renameSync(path.join(base, 'd'), path.join(base, 'moved'));
  const fd = openat(dirfd, 'f', fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o640);
  try {
    fs.writeSync(fd, 'hello');
    expect(fs.fstatSync(fd).mode & 0o777).toBe(0o640 & ~process.umask());
  } finally {
    fs.closeSync(fd);
  }
  expect(fs.readFileSync(path.join(base, 'moved', 'f'), 'utf8')).toBe('hello');
  // O_CLOEXEC is always added.
  const r = openat(dirfd, 'f', fs.constants.O_RDONLY);
  try {
    const flags = fs.readFileSync(`/proc/self/fdinfo/${r}`, 'utf8').match(/flags:\s+(\d+)/)![1]!;
    expect(parseInt(flags, 8) & 0o2000000).toBe(0o2000000);
  } finally {
    fs.closeSync(r);
  }
});

test('errors come back as PosixError with the errno name: ENOENT, EEXIST, ELOOP, ENAMETOOLONG, EBADF, EINVAL', () => {
  fs.writeFileSync(path.join(base, 'd', 'x'), '');
  fs.symlinkSync('/etc/passwd', path.join(base, 'd', 'link'));
  expect(posixCode(() => openat(dirfd, 'none', fs.constants.O_RDONLY))).toBe('ENOENT');
  expect(posixCode(() => openat(dirfd, 'x', fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL))).toBe('EEXIST');
  expect(posixCode(() => openat(dirfd, 'link', fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW))).toBe('ELOOP');
  expect(posixCode(() => openat(dirfd, 'n'.repeat(256), fs.constants.O_RDONLY))).toBe('ENAMETOOLONG');
  expect(posixCode(() => openat(dirfd, 'n'.repeat(5000), fs.constants.O_RDONLY))).toBe('ENAMETOOLONG');
  expect(posixCode(() => openat(dirfd, 'a\0b', fs.constants.O_RDONLY))).toBe('EINVAL');
  expect(posixCode(() => openat(-1, 'x', fs.constants.O_RDONLY))).toBe('EBADF');
  expect(posixCode(() => unlinkat(dirfd, 'none'))).toBe('ENOENT');
  expect(() => openat('x' as unknown as number, 'x', 0)).toThrow(/descriptor, name\) expected/);
});

test('tryOpenat answers a descriptor, or the negative errno instead of throwing; bad arguments still throw', () => {
  fs.writeFileSync(path.join(base, 'd', 'x'), 'hi');
  fs.symlinkSync('x', path.join(base, 'd', 'link'));
  const fd = tryOpenat(dirfd, 'x', fs.constants.O_RDONLY);
  expect(fd).toBeGreaterThanOrEqual(0);
  try {
    expect(fs.readFileSync(fd, 'utf8')).toBe('hi');
  } finally {
    fs.closeSync(fd);
  }
  const E = os.constants.errno;
  expect(tryOpenat(dirfd, 'none', fs.constants.O_RDONLY)).toBe(-E.ENOENT);
  expect(tryOpenat(dirfd, 'link', fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)).toBe(-E.ELOOP);
  expect(tryOpenat(dirfd, 'n'.repeat(256), fs.constants.O_RDONLY)).toBe(-E.ENAMETOOLONG);
  expect(tryOpenat(-1, 'x', fs.constants.O_RDONLY)).toBe(-E.EBADF);
  expect(() => tryOpenat('x' as unknown as number, 'x', 0)).toThrow(/descriptor, name\) expected/);
});

test('a PosixError carries no JS stack (a lookup of a missing name is routine), and its message names the call', () => {
  const limit = Error.stackTraceLimit;
  let caught: unknown;
  try {
    openat(dirfd, 'none', fs.constants.O_RDONLY);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(PosixError);
  expect((caught as PosixError).stack).toBe('PosixError: ENOENT: openat failed');
  expect(Error.stackTraceLimit).toBe(limit);
});

test('unlinkat removes files and, with AT_REMOVEDIR, empty directories; mkdirat makes them', () => {
  mkdirat(dirfd, 'sub', 0o750);
  expect(fs.statSync(path.join(base, 'd', 'sub')).isDirectory()).toBe(true);
  fs.writeFileSync(path.join(base, 'd', 'sub', 'f'), '');
  const subfd = fs.openSync(path.join(base, 'd', 'sub'), O_PATH);
  try {
    expect(() => unlinkat(dirfd, 'sub', AT_REMOVEDIR)).toThrow(expect.objectContaining({ code: 'ENOTEMPTY' }));
    expect(() => unlinkat(dirfd, 'sub')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    unlinkat(subfd, 'f');
  } finally {
    fs.closeSync(subfd);
  }
  unlinkat(dirfd, 'sub', AT_REMOVEDIR);
  expect(fs.readdirSync(path.join(base, 'd'))).toEqual([]);
  expect(() => mkdirat(dirfd, '..', 0o700)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
});

test('haveAtCalls says whether the loaded addon has them: yes when built, no without it', () => {
  expect(haveAtCalls()).toBe(true);
  withoutAddon<typeof import('./at.js')>('./at.js', (fresh) => {
    expect(fresh.haveAtCalls()).toBe(false);
    expect(() => fresh.openat(dirfd, 'x', 0)).toThrow(expect.objectContaining({ code: 'ENOSYS' }));
  });
});

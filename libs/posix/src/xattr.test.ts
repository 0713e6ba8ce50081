import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  PosixError, XATTR_CREATE, XATTR_REPLACE, fgetxattr, flistxattr, fremovexattr, fsetxattr, getxattr, havePosix,
  lgetxattr, listxattr, listxattrRaw, llistxattr, lremovexattr, lsetxattr, setxattr,
} from './index.js';

const O_PATH = 0o10000000;

function errno(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof PosixError) return e.code;
    throw e;
  }
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-posix-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the addon is built', () => {
  expect(havePosix()).toBe(true);
});

test('set, get, list, remove on a path; flags XATTR_CREATE and XATTR_REPLACE', () => {
  const f = path.join(dir, 'f');
  fs.writeFileSync(f, '');
  expect(llistxattr(f)).toEqual([]);
  lsetxattr(f, 'user.a', 'one');
  setxattr(f, 'user.b', Buffer.from([0, 1, 2, 255]));
  expect(lgetxattr(f, 'user.a').toString()).toBe('one');
  expect([...getxattr(f, 'user.b')]).toEqual([0, 1, 2, 255]);
  expect(listxattr(f).sort()).toEqual(['user.a', 'user.b']);
  expect(listxattrRaw(f).toString()).toMatch(/^(user\.a\0user\.b\0|user\.b\0user\.a\0)$/);
  expect(errno(() => lsetxattr(f, 'user.a', 'two', XATTR_CREATE))).toBe('EEXIST');
  expect(errno(() => lsetxattr(f, 'user.c', 'two', XATTR_REPLACE))).toBe('ENODATA');
  lsetxattr(f, 'user.a', 'two', XATTR_REPLACE);
  expect(lgetxattr(f, 'user.a').toString()).toBe('two');
  lremovexattr(f, 'user.a');
  expect(errno(() => lgetxattr(f, 'user.a'))).toBe('ENODATA');
  expect(errno(() => lremovexattr(f, 'user.a'))).toBe('ENODATA');
  expect(errno(() => lgetxattr(path.join(dir, 'missing'), 'user.a'))).toBe('ENOENT');
});

test('a 3,000-byte value round-trips (ext4 keeps up to a block); over 64 KiB is E2BIG', () => {
  const f = path.join(dir, 'big');
  fs.writeFileSync(f, '');
  const v = Buffer.alloc(3000, 7);
  lsetxattr(f, 'user.big', v);
  expect(lgetxattr(f, 'user.big').equals(v)).toBe(true);
  expect(errno(() => lsetxattr(f, 'user.big2', Buffer.alloc(65537)))).toBe('E2BIG');
});

test('on a descriptor: an open file works after unlink; an O_PATH descriptor is EBADF', () => {
  const f = path.join(dir, 'open');
  fs.writeFileSync(f, '');
  const fd = fs.openSync(f, 'r+');
  const pfd = fs.openSync(f, O_PATH);
  try {
    fs.unlinkSync(f);
    fsetxattr(fd, 'user.k', 'v');
    expect(fgetxattr(fd, 'user.k').toString()).toBe('v');
    expect(flistxattr(fd)).toEqual(['user.k']);
    fremovexattr(fd, 'user.k');
    expect(flistxattr(fd)).toEqual([]);
    expect(errno(() => fgetxattr(pfd, 'user.k'))).toBe('EBADF');
  } finally {
    fs.closeSync(fd);
    fs.closeSync(pfd);
  }
});

test('through /proc/self/fd of an O_PATH descriptor: the file itself, a symlink is not followed', () => {
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, '');
  fs.symlinkSync(target, path.join(dir, 'link'));
  const lfd = fs.openSync(path.join(dir, 'link'), O_PATH | fs.constants.O_NOFOLLOW);
  const tfd = fs.openSync(target, O_PATH);
  try {
    // user.* attributes are refused on symlinks: the call reached the link, not its target.
    expect(errno(() => setxattr(`/proc/self/fd/${lfd}`, 'user.k', 'v'))).toBe('EPERM');
    expect(llistxattr(target)).toEqual([]);
    setxattr(`/proc/self/fd/${tfd}`, 'user.k', 'v');
    expect(lgetxattr(target, 'user.k').toString()).toBe('v');
  } finally {
    fs.closeSync(lfd);
    fs.closeSync(tfd);
  }
});

test('bad arguments throw at once; a name over 255 bytes is ERANGE', () => {
  expect(() => getxattr(42 as unknown as string, 'user.a')).toThrow(PosixError);
  expect(() => setxattr(path.join(dir, 'x'), 'user.a', 5 as unknown as Buffer)).toThrow('value Buffer expected');
  expect(errno(() => lgetxattr(path.join(dir, 'x'), `user.${'n'.repeat(300)}`))).toBe('ERANGE');
});

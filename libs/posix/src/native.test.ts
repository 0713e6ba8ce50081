import { withoutAddon } from './test-util.js';

test('without the addon: havePosix() is false and each call throws ENOSYS saying how to build it', () => {
  withoutAddon<typeof import('./index.js')>('./index.js', (posix) => {
    expect(posix.havePosix()).toBe(false);
    expect(() => posix.lgetxattr('/', 'user.a')).toThrow(expect.objectContaining({ code: 'ENOSYS', errno: 38 }));
    expect(() => posix.getdents(0)).toThrow(/build:native -w @prose\/posix/);
  });
});

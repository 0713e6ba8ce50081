test('without the addon: havePosix() is false and each call throws ENOSYS saying how to build it', () => {
  const old = process.env.PROSE_POSIX_ADDON;
  process.env.PROSE_POSIX_ADDON = '/nonexistent/prose_posix.node';
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const posix = require('./index.js') as typeof import('./index.js');
      expect(posix.havePosix()).toBe(false);
      expect(() => posix.lgetxattr('/', 'user.a')).toThrow(expect.objectContaining({ code: 'ENOSYS', errno: 38 }));
      expect(() => posix.getdents(0)).toThrow(/build:native -w @prose\/posix/);
    });
  } finally {
    if (old === undefined) delete process.env.PROSE_POSIX_ADDON;
    else process.env.PROSE_POSIX_ADDON = old;
  }
});

import { Ename, Errno, NinepError, errnoText, isUnexpected, textErrno } from './errors.js';

test('lib9p strings map to the errnos Linux expects', () => {
  expect(textErrno('file not found')).toBe(Errno.ENOENT);
  expect(textErrno('permission denied')).toBe(Errno.EACCES);
  expect(textErrno('unknown fid')).toBe(Errno.EBADF);
  expect(textErrno('File Not Found')).toBe(Errno.ENOENT);
  expect(textErrno('file not found: /x/y')).toBe(Errno.ENOENT);
  expect(textErrno('something odd')).toBe(Errno.EIO);
});

test('errnos have lib9p-style text for 9P2000 peers', () => {
  expect(errnoText(Errno.ENOENT)).toBe(Ename.notfound);
  expect(errnoText(Errno.ENOTEMPTY)).toBe(Ename.notempty);
  expect(errnoText(9999)).toBe('errno 9999');
});

test('NinepError.from maps Node system errors by code, aborts to EINTR, the rest to EIO', () => {
  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', errno: -2 });
  expect(NinepError.from(enoent)).toMatchObject({ errno: 2, code: 'ENOENT', ename: 'file not found' });
  const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
  expect(NinepError.from(abort)).toMatchObject({ errno: Errno.EINTR, ename: 'interrupted' });
  expect(NinepError.from(new TypeError('x is undefined'))).toMatchObject({ errno: Errno.EIO, ename: 'i/o error' });
  const own = new NinepError('bad ctl message: frob', Errno.EINVAL);
  expect(NinepError.from(own)).toBe(own);
  expect(isUnexpected(new TypeError('x'))).toBe(true);
  expect(isUnexpected(enoent)).toBe(false);
  expect(isUnexpected(own)).toBe(false);
});

test('NinepError.errno adds detail and keeps the code', () => {
  const e = NinepError.errno(Errno.EINVAL, 'connect wants an address');
  expect(e.ename).toBe('invalid argument: connect wants an address');
  expect(e.code).toBe('EINVAL');
});

test('a NinepError carries no JS stack (it is a value on the wire) and leaves Error.stackTraceLimit as it was', () => {
  const limit = Error.stackTraceLimit;
  class Sub extends NinepError {}
  for (const e of [new NinepError('file not found', Errno.ENOENT), NinepError.errno(Errno.EACCES), new Sub('x', Errno.EIO)]) {
    expect(e.stack).toBe(`${e.name}: ${e.message}`);
    expect(e).toBeInstanceOf(Error);
  }
  expect(Error.stackTraceLimit).toBe(limit);
  expect(new Error('still traced').stack).toMatch(/\n\s+at /);
});

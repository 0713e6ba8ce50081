import {
  DMDIR, DMSETUID, L_O_APPEND, L_O_RDONLY, L_O_RDWR, L_O_TRUNC, L_O_WRONLY, OEXEC, ORCLOSE, ORDWR, OREAD, OTRUNC,
  OWRITE, S_IFDIR, S_IFREG, SETATTR_ATIME, SETATTR_MODE, SETATTR_MTIME, SETATTR_MTIME_SET, SETATTR_SIZE,
} from '@prose/protocol';
import { attrOfDir, direntType, omodeOfFlags, unixMode, wstatOfSetattr } from './attr.js';
import { AEXEC, AREAD, AWRITE, checkDirOpen, createPerm, hasPerm, isValidName, openAccess } from './perm.js';

describe('permissions (lib9p hasperm, open(5))', () => {
  const f = { mode: 0o640, uid: 'ann', gid: 'staff' };
  test('owner, group and other bits', () => {
    expect(hasPerm(f, 'ann', AREAD | AWRITE)).toBe(true);
    expect(hasPerm(f, 'staff', AREAD)).toBe(true);
    expect(hasPerm(f, 'staff', AWRITE)).toBe(false);
    expect(hasPerm(f, 'bob', AREAD)).toBe(false);
    expect(hasPerm({ mode: 0o755 | DMDIR, uid: 'x', gid: 'x' }, 'bob', AEXEC)).toBe(true);
  });
  test('what an open mode needs', () => {
    expect(openAccess(OREAD)).toBe(AREAD);
    expect(openAccess(OWRITE)).toBe(AWRITE);
    expect(openAccess(ORDWR)).toBe(AREAD | AWRITE);
    expect(openAccess(OEXEC)).toBe(AEXEC);
    expect(openAccess(OREAD | OTRUNC)).toBe(AREAD | AWRITE);
    expect(() => checkDirOpen(true, OREAD | ORCLOSE)).not.toThrow();
    expect(() => checkDirOpen(true, OEXEC)).toThrow('is a directory');
  });
  test('created files take the directory\'s permissions as a mask', () => {
    expect(createPerm(0o666, 0o750).toString(8)).toBe('640');
    expect(createPerm((DMDIR | 0o777) >>> 0, 0o750).toString(8)).toBe('20000000750');
    expect(createPerm(0o777, 0o700).toString(8)).toBe('711');
  });
  test('names', () => {
    expect(['a', 'a.b', '...'].every(isValidName)).toBe(true);
    expect(['', '.', '..', 'a/b', 'a\0b'].some(isValidName)).toBe(false);
  });
});

describe('.L mappings (attr.ts)', () => {
  test('open flags become Plan 9 modes', () => {
    expect(omodeOfFlags(L_O_RDONLY)).toBe(OREAD);
    expect(omodeOfFlags(L_O_WRONLY | L_O_TRUNC)).toBe(OWRITE | OTRUNC);
    expect(omodeOfFlags(L_O_RDWR | L_O_APPEND)).toBe(ORDWR);
  });
  test('stat records become attributes', () => {
    const d = {
      type: 0, dev: 0, qid: { type: 0, version: 7, path: 3n }, mode: 0o644 | DMSETUID, atime: 10, mtime: 20, length: 1025,
      name: 'f', uid: 'u', gid: 'g', muid: 'u', nUid: 1000,
    };
    const a = attrOfDir(d);
    expect(a.mode).toBe(S_IFREG | 0o4644);
    expect([a.uid, a.gid, a.size, a.blocks, a.atimeSec, a.mtimeSec, a.dataVersion]).toEqual([1000, 0, 1025, 3, 10, 20, 7]);
    expect(unixMode({ mode: DMDIR | 0o755 })).toBe(S_IFDIR | 0o755);
    expect(direntType({ mode: DMDIR })).toBe(4);
    expect(direntType({ mode: 0o644 })).toBe(8);
  });
  test('setattr becomes a wstat record, or nothing', () => {
    const base = { valid: 0, mode: 0, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 };
    expect(wstatOfSetattr(base, { mode: 0o644 }, 99)).toBeUndefined();
    const d = wstatOfSetattr({ ...base, valid: SETATTR_MODE | SETATTR_SIZE | SETATTR_ATIME | SETATTR_MTIME | SETATTR_MTIME_SET, mode: 0o600, size: 5, mtimeSec: 42 }, { mode: (DMDIR | 0o755) >>> 0 }, 99)!;
    expect(d.mode.toString(8)).toBe('20000000600');
    expect([d.length, d.atime, d.mtime, d.name]).toEqual([5, 99, 42, '']);
  });
});

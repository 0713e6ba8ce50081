import { NONUNAME } from '@prose/protocol';
import { MAY_EXEC, MAY_READ, MAY_WRITE, UidPolicy, isOwner, mayAccess, mayDelete } from './uidmap.js';

describe('uid policy', () => {
  test('"service" maps nobody and checks nothing', () => {
    const p = UidPolicy.service();
    expect(p.checks).toBe(false);
    expect(p.resolve('anyone', 5)).toBeUndefined();
  });

  test('"map": n_uname first, then uname, then *, else refused', () => {
    const p = UidPolicy.map(['alice=1000:1000:27+44', '#2000=2000:2000', '*=65534:65534']);
    expect(p.checks).toBe(true);
    expect(p.resolve('alice', NONUNAME)).toEqual({ uid: 1000, gid: 1000, groups: [1000, 27, 44] });
    expect(p.resolve('alice', 2000)).toEqual({ uid: 2000, gid: 2000, groups: [2000] });
    expect(p.resolve('bob', NONUNAME)).toEqual({ uid: 65534, gid: 65534, groups: [65534] });
    expect(UidPolicy.map(['alice=1:1']).resolve('bob', NONUNAME)).toBeNull();
    expect(() => UidPolicy.map(['alice'])).toThrow(/bad entry/);
    expect(() => UidPolicy.map(['#x=1:1'])).toThrow(/bad/);
  });

  test('mayAccess follows owner, group, other; uid 0 reads and writes anything', () => {
    const alice = { uid: 1000, gid: 1000, groups: [1000, 27] };
    const root = { uid: 0, gid: 0, groups: [0] };
    const f = { mode: 0o100640, uid: 1000, gid: 27 };
    expect(mayAccess(f, alice, MAY_READ | MAY_WRITE)).toBe(true);
    expect(mayAccess(f, { uid: 5, gid: 27, groups: [27] }, MAY_READ)).toBe(true);
    expect(mayAccess(f, { uid: 5, gid: 27, groups: [27] }, MAY_WRITE)).toBe(false);
    expect(mayAccess(f, { uid: 5, gid: 5, groups: [5] }, MAY_READ)).toBe(false);
    // The owner triple applies to the owner even when "other" would allow more.
    expect(mayAccess({ mode: 0o100007, uid: 1000, gid: 1 }, alice, MAY_READ)).toBe(false);
    expect(mayAccess({ mode: 0o100000, uid: 1, gid: 1 }, root, MAY_READ | MAY_WRITE)).toBe(true);
    expect(mayAccess({ mode: 0o100644, uid: 1, gid: 1 }, root, MAY_EXEC)).toBe(false);
    expect(mayAccess({ mode: 0o040700, uid: 1, gid: 1 }, root, MAY_EXEC)).toBe(true);
    expect(isOwner(f, alice)).toBe(true);
    expect(isOwner(f, root)).toBe(true);
  });

  test('mayDelete: write and search on the directory; sticky needs owning the file or the directory', () => {
    const a = { uid: 1000, gid: 1000, groups: [1000] };
    const b = { uid: 1001, gid: 1001, groups: [1001] };
    const sticky = { mode: 0o41777, uid: 0, gid: 0 };
    const aFile = { mode: 0o100644, uid: 1000, gid: 1000 };
    expect(mayDelete(sticky, aFile, a)).toBe(true);
    expect(mayDelete(sticky, aFile, b)).toBe(false);
    expect(mayDelete({ mode: 0o40777, uid: 0, gid: 0 }, aFile, b)).toBe(true);
    expect(mayDelete({ mode: 0o40755, uid: 0, gid: 0 }, aFile, a)).toBe(false);
  });
});

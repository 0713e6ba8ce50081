import { LOCK_BLOCKED, LOCK_SUCCESS, LOCK_TYPE_RDLCK, LOCK_TYPE_UNLCK, LOCK_TYPE_WRLCK } from '@prose/protocol';
import { LockTable, lengthOf, rangeOf } from './locks.js';

const F = '1:2';
const ranges = (t: LockTable, owner?: string) =>
  t.held(F).filter((l) => owner === undefined || l.owner === owner).map((l) => [l.type, l.start, l.end]);

describe('LockTable (POSIX byte-range semantics)', () => {
  test('ranges: length 0 is to infinity, and back', () => {
    expect(rangeOf(10, 0)).toEqual({ start: 10, end: Infinity });
    expect(rangeOf(10, 5)).toEqual({ start: 10, end: 14 });
    expect(lengthOf({ start: 10, end: 14 })).toBe(5);
    expect(lengthOf({ start: 10, end: Infinity })).toBe(0);
  });

  test('read locks share, a write lock excludes, the same owner never conflicts with itself', () => {
    const t = new LockTable();
    expect(t.set(F, 'a', LOCK_TYPE_RDLCK, 0, 99, 1, 'h')).toBe(LOCK_SUCCESS);
    expect(t.set(F, 'b', LOCK_TYPE_RDLCK, 50, 150, 2, 'h')).toBe(LOCK_SUCCESS);
    expect(t.set(F, 'b', LOCK_TYPE_WRLCK, 90, 95, 2, 'h')).toBe(LOCK_BLOCKED);
    expect(t.set(F, 'b', LOCK_TYPE_WRLCK, 100, 150, 2, 'h')).toBe(LOCK_SUCCESS);
    expect(t.set(F, 'a', LOCK_TYPE_WRLCK, 0, 49, 1, 'h')).toBe(LOCK_SUCCESS);
    expect(t.conflict(F, 'b', LOCK_TYPE_RDLCK, 40, 60)).toMatchObject({ owner: 'a', type: LOCK_TYPE_WRLCK, start: 0, end: 49 });
    expect(t.conflict(F, 'a', LOCK_TYPE_WRLCK, 0, Infinity)).toMatchObject({ owner: 'b' });
    expect(t.conflict(F, 'c', LOCK_TYPE_RDLCK, 200, 300)).toBeUndefined();
  });

  test('a new lock of the owner replaces, splits and merges its own ranges', () => {
    const t = new LockTable();
    t.set(F, 'a', LOCK_TYPE_RDLCK, 0, 99, 1, 'h');
    t.set(F, 'a', LOCK_TYPE_WRLCK, 40, 59, 1, 'h');
    expect(ranges(t)).toEqual([[LOCK_TYPE_RDLCK, 0, 39], [LOCK_TYPE_WRLCK, 40, 59], [LOCK_TYPE_RDLCK, 60, 99]]);
    t.set(F, 'a', LOCK_TYPE_UNLCK, 45, 49, 1, 'h');
    expect(ranges(t)).toEqual([[LOCK_TYPE_RDLCK, 0, 39], [LOCK_TYPE_WRLCK, 40, 44], [LOCK_TYPE_WRLCK, 50, 59], [LOCK_TYPE_RDLCK, 60, 99]]);
    t.set(F, 'a', LOCK_TYPE_RDLCK, 40, 59, 1, 'h');
    expect(ranges(t)).toEqual([[LOCK_TYPE_RDLCK, 0, 99]]);
    t.set(F, 'a', LOCK_TYPE_RDLCK, 100, 0 + Infinity, 1, 'h');
    expect(ranges(t)).toEqual([[LOCK_TYPE_RDLCK, 0, Infinity]]);
    t.set(F, 'a', LOCK_TYPE_UNLCK, 0, Infinity, 1, 'h');
    expect(t.size).toBe(0);
  });

  test('releaseOwner drops one owner\'s locks on one file only', () => {
    const t = new LockTable();
    t.set(F, 'a', LOCK_TYPE_WRLCK, 0, 9, 1, 'h');
    t.set(F, 'b', LOCK_TYPE_WRLCK, 10, 19, 2, 'h');
    t.set('other', 'a', LOCK_TYPE_WRLCK, 0, 9, 1, 'h');
    t.releaseOwner(F, 'a');
    expect(ranges(t)).toEqual([[LOCK_TYPE_WRLCK, 10, 19]]);
    expect(t.held('other')).toHaveLength(1);
  });
});

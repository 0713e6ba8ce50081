import { Errno, NinepError } from '@prose/protocol';
import { Inbound } from './inbound.js';

const b = (s: string) => Buffer.from(s);

describe('Inbound', () => {
  test('stream: a read gathers up to its count across chunks; a big chunk is cut without copying', async () => {
    const q = new Inbound({ stream: true, limit: 1000 });
    q.push(b('ab'));
    q.push(b('cd'));
    expect((await q.read(3)).toString()).toBe('abc');
    const big = b('0123456789');
    q.push(big);
    const r = await q.read(5);
    expect(r.toString()).toBe('d0123');
    const s = await q.read(3);
    expect(s.buffer).toBe(big.buffer);
    expect(s.toString()).toBe('456');
  });

  test('waiting readers are served in arrival order', async () => {
    const q = new Inbound({ stream: true, limit: 1000 });
    const r1 = q.read(2);
    const r2 = q.read(2);
    const r3 = q.read(10);
    expect(q.waiting).toBe(3);
    q.push(b('abcdefg'));
    expect([(await r1).toString(), (await r2).toString(), (await r3).toString()]).toEqual(['ab', 'cd', 'efg']);
  });

  test('limit: push says pause at the limit; onDrain once reads took it to a quarter', async () => {
    let drains = 0;
    const q = new Inbound({ stream: true, limit: 8, onDrain: () => drains++ });
    expect(q.push(b('1234'))).toBe(true);
    expect(q.push(b('5678'))).toBe(false);
    await q.read(5);
    expect(drains).toBe(0);
    await q.read(1);
    expect(drains).toBe(1);
  });

  test('datagrams: one per read, truncated to the count, dropped when full', async () => {
    const q = new Inbound({ stream: false, limit: 11 });
    q.push(b('first'));
    q.push(b('second'));
    expect(q.push(b('x'))).toBe(false);
    expect(q.dropped).toBe(1);
    expect((await q.read(3)).toString()).toBe('fir');
    expect((await q.read(100)).toString()).toBe('second');
  });

  test('end: held bytes then end of file; fail: held bytes then the error; close drops', async () => {
    const q = new Inbound({ stream: true, limit: 100 });
    const waiting = q.read(10);
    q.end();
    expect((await waiting).length).toBe(0);
    const f = new Inbound({ stream: true, limit: 100 });
    f.push(b('left'));
    f.fail(new NinepError('connection reset by peer', Errno.ECONNRESET));
    expect((await f.read(10)).toString()).toBe('left');
    expect(() => f.read(10)).toThrow('connection reset by peer');
    const c = new Inbound({ stream: true, limit: 100 });
    c.push(b('dropped'));
    c.close();
    expect((await c.read(10)).length).toBe(0);
  });

  test('a fired signal ends only its own read', async () => {
    const q = new Inbound({ stream: true, limit: 100 });
    const ac = new AbortController();
    const a = q.read(10, ac.signal);
    const other = q.read(10);
    ac.abort(new NinepError('interrupted', Errno.EINTR));
    await expect(a).rejects.toMatchObject({ errno: Errno.EINTR });
    q.push(b('x'));
    expect((await other).toString()).toBe('x');
  });
});

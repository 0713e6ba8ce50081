import { Errno, NinepError } from '@prose/protocol';
import { ReadQueue, Waiters } from './blocking.js';

describe('Waiters', () => {
  test('wake takes the longest waiter; an abort removes only its own waiter, with the signal reason', async () => {
    const w = new Waiters<number>();
    const ac = new AbortController();
    const a = w.wait();
    const b = w.wait(ac.signal);
    const c = w.wait();
    expect(w.size).toBe(3);
    ac.abort(new NinepError('interrupted', Errno.EINTR));
    await expect(b).rejects.toMatchObject({ errno: Errno.EINTR });
    expect(w.size).toBe(2);
    expect(w.wake(1)).toBe(true);
    expect(w.wakeAll(2)).toBe(1);
    expect(w.wake(3)).toBe(false);
    expect(await a).toBe(1);
    expect(await c).toBe(2);
    const aborted = new AbortController();
    aborted.abort();
    await expect(w.wait(aborted.signal)).rejects.toBeDefined();
    const f = w.wait();
    w.failAll(new Error('gone'));
    await expect(f).rejects.toThrow('gone');
  });
});

describe('ReadQueue', () => {
  test('message mode: one read takes (part of) one message; data is copied in', async () => {
    const q = new ReadQueue();
    const src = Buffer.from('first');
    q.put(src);
    src.fill(0);
    q.put('second');
    expect((await q.read(3)).toString()).toBe('fir');
    expect((await q.read(100)).toString()).toBe('st');
    expect((await q.read(100)).toString()).toBe('second');
    expect(q.length).toBe(0);
  });

  test('stream mode: a read gathers across writes up to its count', async () => {
    const q = new ReadQueue({ stream: true });
    q.put('ab');
    q.put('cd');
    q.put('ef');
    expect((await q.read(5)).toString()).toBe('abcde');
    expect((await q.read(5)).toString()).toBe('f');
  });

  test('a read waits for data, ends with its signal, and gets end of file after close', async () => {
    const q = new ReadQueue();
    const ac = new AbortController();
    const cancelled = q.read(10, ac.signal);
    const waiting = q.read(10);
    expect(q.waiting).toBe(2);
    ac.abort();
    await expect(cancelled).rejects.toBeDefined();
    q.put('x');
    expect((await waiting).toString()).toBe('x');
    const eof = q.read(10);
    q.close();
    expect((await eof).length).toBe(0);
    expect(() => q.put('late')).toThrow(NinepError);
  });

  test('the limit bounds what is held', () => {
    const q = new ReadQueue({ limit: 4 });
    q.put('abcd');
    let e: NinepError | undefined;
    try {
      q.put('e');
    } catch (x) {
      e = x as NinepError;
    }
    expect(e?.errno).toBe(Errno.EAGAIN);
  });
});

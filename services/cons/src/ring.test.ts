import { RingLog, lostMarker } from './ring.js';

describe('RingLog', () => {
  test('keeps positions; readers read from theirs, across the wrap of the ring', () => {
    const r = new RingLog(8);
    r.write(Buffer.from('abcdef'));
    expect(r.readAt(0, 4)).toEqual({ data: Buffer.from('abcd'), next: 4 });
    r.write(Buffer.from('ghij'));
    expect([r.start, r.end]).toEqual([2, 10]);
    expect(r.readAt(4, 100)).toEqual({ data: Buffer.from('efghij'), next: 10 });
    expect(r.readAt(10, 100).data.length).toBe(0);
  });

  test('a reader that fell behind gets a marker with the bytes lost, then goes on from the oldest byte kept', () => {
    const r = new RingLog(4);
    r.write(Buffer.from('0123456789'));
    expect([r.start, r.end]).toEqual([6, 10]);
    const m = r.readAt(0, 100);
    expect(m).toEqual({ data: Buffer.from(lostMarker(6)), next: 6 });
    expect(m.data.toString()).toBe('\n[lost 6 bytes]\n');
    expect(r.readAt(6, 100).data.toString()).toBe('6789');
  });

  test('follow waits at the end for the next write, ends with close or its signal', async () => {
    const r = new RingLog(16);
    const p = r.follow(0, 100);
    expect(r.waiting).toBe(1);
    r.write(Buffer.from('hi'));
    expect(await p).toEqual({ data: Buffer.from('hi'), next: 2 });
    const ac = new AbortController();
    const cancelled = r.follow(2, 100, ac.signal);
    ac.abort(new Error('flushed'));
    await expect(cancelled).rejects.toThrow('flushed');
    const eof = r.follow(2, 100);
    r.close();
    expect((await eof).data.length).toBe(0);
  });

  test('a write larger than the ring keeps its last bytes', () => {
    const r = new RingLog(5);
    r.write(Buffer.from('ab'));
    r.write(Buffer.from('0123456789'));
    expect(r.readAt(r.start, 100).data.toString()).toBe('56789');
    expect(r.end).toBe(12);
  });
});

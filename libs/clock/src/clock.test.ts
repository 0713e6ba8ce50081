import { Errno, NinepError } from '@prose/protocol';
import { Clock, HostTime, writeBintime, writeTime, type TimeSource } from './clock.js';

/** A source whose time moves only when told. */
class FakeTime implements TimeSource {
  wall = 1_700_000_000_000_000_000n;
  mono = 5_000n;
  wallNs(): bigint {
    return this.wall;
  }
  monoNs(): bigint {
    return this.mono;
  }
  advance(ns: bigint): void {
    this.wall += ns;
    this.mono += ns;
  }
}

function errOf(f: () => unknown): NinepError {
  try {
    f();
  } catch (e) {
    return e as NinepError;
  }
  throw new Error('did not throw');
}

function bin(op: string, ...parts: Array<[bigint, 8] | [number, 4]>): Buffer {
  const bufs = [Buffer.from(op, 'latin1')];
  for (const [v, n] of parts) {
    const b = Buffer.alloc(n);
    if (n === 8) b.writeBigInt64BE(v as bigint);
    else b.writeInt32BE(v as number);
    bufs.push(b);
  }
  return Buffer.concat(bufs);
}

describe('Clock', () => {
  test('follows its source: ns since the epoch, ns and ticks since boot', () => {
    const src = new FakeTime();
    const c = new Clock(src);
    src.advance(1_500n);
    expect(c.now()).toEqual({ ns: src.wall, ticks: 1_500n, freq: 1_000_000_000n, bootNs: 1_500n });
    expect(c.monotonic()).toBe(1_500n);
  });

  test('set steps the clock without touching the source; the monotonic clock does not move', () => {
    const src = new FakeTime();
    const c = new Clock(src);
    c.set(42_000_000_000n);
    expect(c.now().ns).toBe(42_000_000_000n);
    src.advance(10n);
    expect(c.now().ns).toBe(42_000_000_010n);
    expect(c.monotonic()).toBe(10n);
    expect(new Clock(src).now().ns).toBe(src.wall);
  });

  test('adjust slews evenly over the period, then holds; period 0 steps', () => {
    const src = new FakeTime();
    const c = new Clock(src);
    const base = () => c.now().ns - src.wall;
    c.adjust(1_000_000n, 2);
    expect(base()).toBe(0n);
    src.advance(500_000_000n);
    expect(base()).toBe(250_000n);
    src.advance(1_500_000_000n);
    expect(base()).toBe(1_000_000n);
    src.advance(5_000_000_000n);
    expect(base()).toBe(1_000_000n);
    c.adjust(-3n, 0);
    expect(base()).toBe(999_997n);
    c.adjust(1_000n, 10);
    src.advance(1_000_000_000n);
    c.adjust(0n, 0);
    expect(c.skew).toBe(999_997n + 100n);
  });

  test('setFreq scales ticks', () => {
    const src = new FakeTime();
    const c = new Clock(src);
    c.setFreq(1_000n);
    src.advance(3_000_000_000n);
    expect(c.now()).toMatchObject({ ticks: 3_000n, freq: 1_000n, bootNs: 3_000_000_000n });
  });
});

describe('writes to time and bintime', () => {
  test('time takes decimal seconds', () => {
    const src = new FakeTime();
    const c = new Clock(src);
    writeTime(c, '1000\n');
    expect(c.now().ns).toBe(1_000_000_000_000n);
    for (const bad of ['', 'soon', '-5', '0', '12abc']) {
      const e = errOf(() => writeTime(c, bad));
      expect(e.message).toMatch(/^bad time control: /);
      expect(e.errno).toBe(Errno.EINVAL);
    }
  });

  test('bintime n sets, d slews, f sets the frequency; bad records are refused', () => {
    const src = new FakeTime();
    const c = new Clock(src);
    writeBintime(c, bin('n', [77_000_000_000n, 8]));
    expect(c.now().ns).toBe(77_000_000_000n);
    writeBintime(c, bin('d', [1_000n, 8], [0, 4]));
    expect(c.now().ns).toBe(77_000_001_000n);
    writeBintime(c, bin('f', [10n, 8]));
    expect(c.freq).toBe(10n);
    expect(errOf(() => writeBintime(c, Buffer.from('n123'))).message).toBe('bad time control: n wants 8 bytes');
    expect(errOf(() => writeBintime(c, bin('d', [1n, 8]))).message).toBe('bad time control: d wants 8 + 4 bytes');
    expect(errOf(() => writeBintime(c, bin('f', [0n, 8]))).message).toBe('bad time control: frequency must be positive');
    expect(errOf(() => writeBintime(c, bin('n', [-1n, 8]))).message).toBe('bad time control: time must be positive');
    expect(errOf(() => writeBintime(c, Buffer.from('x'))).message).toBe('bad time control: unknown op "x"');
    expect(errOf(() => writeBintime(c, Buffer.alloc(0))).message).toBe('bad time control: empty write');
  });
});

describe('HostTime', () => {
  test('wall clock within 2 ms of Date.now(), nanosecond resolution, monotonic clock never goes back', () => {
    const h = new HostTime();
    let last = h.monoNs();
    const distinct = new Set<bigint>();
    for (let i = 0; i < 1000; i++) {
      const d0 = BigInt(Date.now()) * 1_000_000n;
      const w = h.wallNs();
      const d1 = BigInt(Date.now()) * 1_000_000n;
      distinct.add(w);
      expect(w >= d0 - 2_000_000n && w <= d1 + 3_000_000n).toBe(true);
      const m = h.monoNs();
      expect(m >= last).toBe(true);
      last = m;
    }
    expect(distinct.size).toBeGreaterThan(100);
  });
});

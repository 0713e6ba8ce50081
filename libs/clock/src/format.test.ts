import {
  BINTIME_LEN, TIME_LEN, decodeBintime, encodeBintime, formatTime, formatWall, numField, parseTime, readBintime, seconds,
  type ClockSample,
} from './format.js';

const sample: ClockSample = { ns: 1735787045123456789n, ticks: 42n, freq: 1_000_000_000n, bootNs: 9_876_543_210n };

describe('time (cons(3) fixed-width text)', () => {
  test('is 100 bytes: an 11-digit field and four 21-digit fields, each right-aligned and followed by a blank', () => {
    const t = formatTime(sample);
    expect(TIME_LEN).toBe(100);
    expect(Buffer.byteLength(t)).toBe(100);
    expect(t).toBe(
      '1735787045'.padStart(11) + ' ' +
      '1735787045123456789'.padStart(21) + ' ' +
      '42'.padStart(21) + ' ' +
      '1000000000'.padStart(21) + ' ' +
      '9876543210'.padStart(21) + ' ',
    );
    expect(t.slice(0, 12)).toBe(' 1735787045 ');
    expect(parseTime(t)).toEqual({ sec: 1735787045n, ...sample });
  });

  test('fields keep their width whatever the number', () => {
    expect(numField(0, 12)).toBe('          0 ');
    expect(numField(2n ** 64n - 1n, 22)).toBe(' 18446744073709551615 ');
    expect(numField(123456789012345n, 12)).toBe('56789012345 ');
    expect(formatTime({ ns: 0n, ticks: 0n, freq: 1n, bootNs: 0n }).length).toBe(100);
  });

  test('parseTime refuses wrong lengths and fields', () => {
    expect(() => parseTime('1 2 3')).toThrow(/want 100 bytes/);
    expect(() => parseTime('x'.repeat(100))).toThrow(/field 0/);
  });

  test('seconds rounds towards minus infinity', () => {
    expect(seconds(1_999_999_999n)).toBe(1n);
    expect(seconds(-1n)).toBe(-1n);
    expect(seconds(-1_000_000_000n)).toBe(-1n);
  });
});

describe('bintime (32 bytes big-endian)', () => {
  test('encodes ns, ticks, freq, ns since boot as big-endian 64-bit numbers', () => {
    const b = encodeBintime(sample);
    expect(b.length).toBe(BINTIME_LEN);
    expect(b.subarray(0, 8).toString('hex')).toBe(sample.ns.toString(16).padStart(16, '0'));
    expect(b.readBigUInt64BE(8)).toBe(42n);
    expect(b.readBigUInt64BE(16)).toBe(1_000_000_000n);
    expect(b.readBigUInt64BE(24)).toBe(9_876_543_210n);
    expect(decodeBintime(b)).toEqual(sample);
  });

  test('a read gives the whole 8-byte fields that fit, in order (Plan 9 readbintime)', () => {
    expect(readBintime(sample, 7).length).toBe(0);
    expect(readBintime(sample, 8)).toEqual(encodeBintime(sample).subarray(0, 8));
    expect(readBintime(sample, 20).length).toBe(16);
    expect(readBintime(sample, 31).length).toBe(24);
    expect(readBintime(sample, 32)).toEqual(encodeBintime(sample));
    expect(readBintime(sample, 8192)).toEqual(encodeBintime(sample));
  });
});

test('formatWall is RFC 3339 UTC with nanoseconds', () => {
  expect(formatWall(1735787045123456789n)).toBe('2025-01-02T03:04:05.123456789Z');
  expect(formatWall(5n)).toBe('1970-01-01T00:00:00.000000005Z');
});

import { MAX_NS, parseDuration, parseNs } from './duration.js';

test('parseNs takes a decimal count up to 2^63-1', () => {
  expect(parseNs('0')).toBe(0n);
  expect(parseNs('1735787045123456789')).toBe(1735787045123456789n);
  expect(parseNs(String(MAX_NS))).toBe(MAX_NS);
  for (const bad of ['', '-1', '1e9', '9223372036854775808', '12x', ' 1']) expect(parseNs(bad)).toBeUndefined();
});

test('parseDuration takes ns or a number with a unit, fractions with a unit', () => {
  expect(parseDuration('1500000')).toBe(1_500_000n);
  expect(parseDuration('250us')).toBe(250_000n);
  expect(parseDuration('250µs')).toBe(250_000n);
  expect(parseDuration('10ms')).toBe(10_000_000n);
  expect(parseDuration('1.5s')).toBe(1_500_000_000n);
  expect(parseDuration('0.000000001s')).toBe(1n);
  expect(parseDuration('2m')).toBe(120_000_000_000n);
  expect(parseDuration('1h')).toBe(3_600_000_000_000n);
  expect(parseDuration('7ns')).toBe(7n);
  for (const bad of ['', 'ms', '1.5', '-1s', '1 s', '1d', '3000000h', '1.s', '.5s']) expect(parseDuration(bad)).toBeUndefined();
});

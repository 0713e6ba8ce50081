/**
 * Numbers in timer control messages: nanosecond counts and durations with units.
 */

/** Largest nanosecond count accepted: 2^63 - 1. */
export const MAX_NS = (1n << 63n) - 1n;

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** A decimal count of nanoseconds (0..2^63-1), or undefined. */
export function parseNs(s: string): bigint | undefined {
  if (!/^[0-9]{1,19}$/.test(s)) return undefined;
  const n = BigInt(s);
  return n <= MAX_NS ? n : undefined;
}

/**
 * A duration in ns: a plain number is nanoseconds; a number with a unit (ns, us or µs, ms, s,
 * m, h) may have a fraction: `1500000`, `250us`, `10ms`, `1.5s`, `2m`. Undefined when it is not
 * one or passes 2^63-1 ns. Fractions below a nanosecond are dropped.
 */
export function parseDuration(s: string): bigint | undefined {
  const m = /^([0-9]{1,19})(?:\.([0-9]{1,9}))?(ns|us|µs|ms|s|m|h)?$/.exec(s);
  if (m === null) return undefined;
  const [, whole, frac, unitName] = m;
  if (frac !== undefined && unitName === undefined) return undefined;
  const unit = UNITS[unitName ?? 'ns']!;
  let ns = BigInt(whole!) * unit;
  if (frac !== undefined) ns += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
  return ns <= MAX_NS ? ns : undefined;
}

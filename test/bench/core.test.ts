/**
 * Smoke run of suite `core` (a few iterations) so the benchmark keeps working; the real run is
 * `make bench-core`. Needs the built peers (dist/test/bench), which `make test` builds first.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { CORE_CASES, coreTargets, ratios, runCore } from './core.js';
import { table, writeResults } from './stats.js';
import { haveDiod } from '../support/diod.js';

jest.setTimeout(60000);

test('suite core runs every case and mode and writes its JSON rows', async () => {
  const logs: string[] = [];
  const rows = await runCore({ iterations: 40, warmup: 10, reps: 3, payloads: [64, 65536], placements: ['same-cpu'], log: (l) => logs.push(l) });
  // Each rep is measured by a client process of its own, never this one (see runCore).
  const clients = logs.map((l) => /^rep \d\/3 same-cpu: client pid (\d+);/.exec(l)?.[1]).filter((x) => x !== undefined);
  expect(clients).toHaveLength(3);
  expect(new Set(clients).size).toBe(3);
  expect(clients).not.toContain(String(process.pid));
  expect(rows.every((r) => r.runs === 3)).toBe(true);
  const cases = CORE_CASES.filter((c) => c !== 'diod-tcp' || haveDiod());
  expect(rows).toHaveLength(cases.length * 2 * 2);
  for (const r of rows) {
    expect(r.p50_us).toBeGreaterThan(0);
    expect(r.p99_us).toBeGreaterThanOrEqual(r.p50_us);
    expect(r.ops_per_s).toBeGreaterThan(0);
    expect(['serial', 'pipelined16']).toContain(r.mode);
  }
  expect(new Set(rows.map((r) => r.case))).toEqual(new Set(cases));
  expect(ratios(rows, 'prose-tcp', 'raw-tcp')).toHaveLength(4);
  if (haveDiod()) {
    // One target line per mode and payload, three checks each, and the count.
    const lines = coreTargets(rows);
    expect(lines.filter((l) => / B {2}p50 vs diod ×[\d.]+ [✓✗], ops\/s ×[\d.]+ [✓✗], p50 vs raw ×[\d.]+ [✓✗]$/.test(l))).toHaveLength(4);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}same-cpu: \d+ of 12 met$/));
  }
  expect(table(rows).split('\n')).toHaveLength(rows.length + 2);

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-bench-out-'));
  try {
    const file = await writeResults('core', rows, {}, dir);
    const json = JSON.parse(await fsp.readFile(file, 'utf8'));
    expect(json.suite).toBe('core');
    expect(Object.keys(json.rows[0])).toEqual(expect.arrayContaining(['case', 'mode', 'payload', 'p50_us', 'p99_us', 'ops_per_s']));
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('targets are judged on the exact ratio, not on the two decimals printed', () => {
  const row = (c: string, p50: number, ops: number) => ({ case: c, mode: 'serial', payload: 64, p50_us: p50, p99_us: p50 * 2, ops_per_s: ops, placement: 'same-cpu' });
  // p50 ×1.004 and ops/s ×0.996 both print as ×1; neither is met. p50 vs raw ×1.2004 prints as ×1.2.
  const lines = coreTargets([row('prose-tcp', 12.004, 99_600), row('diod-tcp', 11.957, 100_000), row('raw-tcp', 10, 120_000)]);
  expect(lines).toContainEqual('  same-cpu  serial          64 B  p50 vs diod ×1 ✗, ops/s ×1 ✗, p50 vs raw ×1.2 ✗');
  expect(lines).toContainEqual('  same-cpu: 0 of 3 met');
});

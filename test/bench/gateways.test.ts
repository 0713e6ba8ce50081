/**
 * Smoke run of suite `gateways` (a few iterations, small bulk) so the benchmark keeps working;
 * the real run is `node dist/test/bench/main.js gateways`. Needs the built net service and
 * bench peers (`npx tsc -b`).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { GATEWAY_CASES, gatewayRatios, runGateways } from './gateways.js';
import { table, writeResults } from './stats.js';

jest.setTimeout(120000);

test('suite gateways runs every case and mode, with ratios against direct sockets, and writes its JSON rows', async () => {
  const rows = await runGateways({ iterations: 20, payloads: [64], bulkBytes: 2 * 1024 * 1024, bulkRepeats: 2, placements: ['same-cpu'] });
  const modes = ['http-dial', 'http-dial-c8', 'http-keepalive', 'bulk-down', 'bulk-up'];
  expect(rows).toHaveLength(GATEWAY_CASES.length * modes.length);
  for (const r of rows) {
    expect(modes).toContain(r.mode);
    expect(r.p50_us).toBeGreaterThan(0);
    expect(r.p99_us).toBeGreaterThanOrEqual(r.p50_us);
    expect(r.ops_per_s).toBeGreaterThan(0);
    expect(r.mb_per_s).toBeGreaterThanOrEqual(r.mode.startsWith('bulk') ? 0.1 : 0);
    expect(r.placement).toBe('same-cpu');
  }
  expect(new Set(rows.map((r) => r.case))).toEqual(new Set(GATEWAY_CASES));
  expect(rows.find((r) => r.mode === 'bulk-down')!.payload).toBe(2 * 1024 * 1024);
  expect(gatewayRatios(rows, 'net-unix', 'direct')).toHaveLength(modes.length);
  expect(gatewayRatios(rows, 'net-tcp', 'direct')).toHaveLength(modes.length);
  expect(table(rows).split('\n')).toHaveLength(rows.length + 2);
  if (process.env.PROSE_BENCH_VERBOSE) process.stderr.write(table(rows, ['case', 'mode', 'payload', 'p50_us', 'p99_us', 'ops_per_s', 'mb_per_s']) + '\n');

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-bench-out-'));
  try {
    const file = await writeResults('gateways', rows, {}, dir);
    const json = JSON.parse(await fsp.readFile(file, 'utf8'));
    expect(json.suite).toBe('gateways');
    expect(Object.keys(json.rows[0])).toEqual(expect.arrayContaining(['case', 'mode', 'payload', 'p50_us', 'p99_us', 'ops_per_s', 'mb_per_s']));
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

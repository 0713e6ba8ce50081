/**
 * Smoke run of suite `directory` (few lookups, 3 kills) so the benchmark keeps working; the real
 * run is `node dist/test/bench/main.js directory`. Needs nats-server and the built fixture.
 */
import { haveNatsServer } from '../support/nats.js';
import { runDirectoryBench } from './directory.js';

jest.setTimeout(50000);

(haveNatsServer() ? test : test.skip)('suite directory measures lookups, attaches and failover gaps', async () => {
  const { rows, gapsMs } = await runDirectoryBench({ lookups: 100, attaches: 5, kills: 3 });
  expect(rows.map((r) => r.mode)).toEqual(['lookup-warm', 'lookup-cold', 'lookup-first', 'attach-by-name', 'failover-gap']);
  for (const r of rows) {
    expect(r.ops_per_s).toBeGreaterThan(0);
    expect(r.p99_us).toBeGreaterThanOrEqual(r.p50_us);
  }
  expect(gapsMs).toHaveLength(3);
  for (const g of gapsMs) expect(g).toBeLessThan(1000);
});

/**
 * Smoke run of suite `storage` (small sizes) so the benchmark keeps working; the real run is
 * `node dist/test/bench/main.js storage`. Needs the built service (services/storage/dist).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { STORAGE_CASES, STORAGE_MODES, runStorage, storageCpuLines, storageRatios } from './storage.js';
import { table, writeResults } from './stats.js';
import { haveDiod } from '../support/diod.js';

jest.setTimeout(60000);

test('suite storage runs every case and workload and writes its JSON rows', async () => {
  const logs: string[] = [];
  const rows = await runStorage({ mib: 4, files: 100, entries: 300, listings: 3, coldListings: 2, warmups: 2, warmFiles: 50, warmMib: 2, rounds: 2, placements: ['unpinned'], log: (l) => logs.push(l) });
  // Each round is measured by a client process of its own, never this one (see runStorage).
  const clients = logs.map((l) => /^round \d\/2 unpinned: client pid (\d+);/.exec(l)?.[1]).filter((x) => x !== undefined);
  expect(clients).toHaveLength(2);
  expect(new Set(clients).size).toBe(2);
  expect(clients).not.toContain(String(process.pid));
  const cases = STORAGE_CASES.filter((c) => c !== 'diod' || haveDiod());
  const modes = [...STORAGE_MODES];
  expect(rows).toHaveLength(cases.length * modes.length);
  for (const c of cases) expect(rows.filter((r) => r.case === c).map((r) => r.mode)).toEqual(modes);
  for (const r of rows) {
    expect(r.ops_per_s).toBeGreaterThan(0);
    expect(r.p99_us).toBeGreaterThanOrEqual(r.p50_us);
    expect(r.placement).toBe('unpinned');
    expect(r.rounds).toBe(2);
    expect(Number(r.rate_min)).toBeLessThanOrEqual(Number(r.rate_max));
    // CPU of the client and of the server process during the workload (Linux /proc)
    expect(r.client_cpu_ms).toBeGreaterThan(0);
    expect(r.server_cpu_ms).toBeGreaterThan(0);
  }
  const ours = rows.find((r) => r.case === 'prose-storage' && r.mode === 'seq-write')!;
  expect(ours.msize).toBe(1024 * 1024 + 24);
  expect(ours.payload).toBe(1024 * 1024);
  expect(Number(ours.mb_per_s)).toBeGreaterThan(0);
  if (cases.includes('diod')) {
    expect(storageRatios(rows)).toHaveLength(modes.length);
    const cpu = storageCpuLines(rows);
    expect(cpu.filter((l) => / unpinned /.test(l))).toHaveLength(modes.length);
    for (const m of modes) expect(cpu).toContainEqual(expect.stringMatching(new RegExp(`^  unpinned  ${m} +[\\d.]+ \\+ [\\d.]+ \\| [\\d.]+ \\+ [\\d.]+ ×[\\d.]+$`)));
  }
  expect(table(rows).split('\n')).toHaveLength(rows.length + 2);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-bench-out-'));
  try {
    const json = JSON.parse(await fsp.readFile(await writeResults('storage', rows, {}, dir), 'utf8'));
    expect(json.suite).toBe('storage');
    expect(new Set(json.rows.map((r: { case: string }) => r.case))).toEqual(new Set(cases));
    expect(Object.keys(json.rows[0])).toEqual(expect.arrayContaining(['case', 'mode', 'payload', 'p50_us', 'p99_us', 'ops_per_s']));
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

/**
 * Smoke run of suite `channel` (few iterations, short idle) so the benchmark keeps working;
 * the real run is `node dist/test/bench/channel.js` (or `make bench`). Needs the built peers.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { haveAddon } from '@prose/shm';
import { CHANNEL_CASES, channelTargets, latencySvg, notifyTargetsAcrossProcesses, runChannelBench } from './channel.js';
import { writeResults } from './stats.js';

jest.setTimeout(60000);

test('suite channel runs every case and writes its rows and plot', async () => {
  const rows = await runChannelBench({ iterations: 30, warmup: 5, payloads: [64, 65536], placements: ['diff-cpu'], idleMs: 100, idleSettleMs: 100 });
  // (the echo floors run on one CPU only: they are the notify targets' floors)
  const cases = CHANNEL_CASES.filter((c) => (!(c.startsWith('shm-proc') || c === 'raw-loop-wait') || haveAddon()) && !c.endsWith('-echo'));
  expect(new Set(rows.map((r) => r.case))).toEqual(new Set(cases));
  for (const r of rows) {
    expect(r.p50_us).toBeGreaterThan(0);
    expect(r.p99_us).toBeGreaterThanOrEqual(r.p50_us);
    expect(r.ops_per_s).toBeGreaterThan(0);
    expect(typeof r.cpu_s).toBe('number');
    if (!r.case.startsWith('raw-')) expect(Number.isFinite(r.idle_cpu_pct)).toBe(true);
  }
  // idle CPU comes from a fresh server and client pair per case: each side where they are two
  // processes, the sum where both ends are threads of one
  for (const r of rows.filter((x) => x.case.startsWith('shm-proc') || x.case === 'unix' || x.case === 'tcp')) {
    expect(Number.isFinite(r.idle_cpu_pct_server)).toBe(true);
    expect(Number.isFinite(r.idle_cpu_pct_client)).toBe(true);
    expect(Math.abs((r.idle_cpu_pct_server as number) + (r.idle_cpu_pct_client as number) - (r.idle_cpu_pct as number))).toBeLessThanOrEqual(0.02);
  }
  // a sleeping channel burns next to nothing (0% measured here, also with both CPUs busy);
  // the bound is generous against a loaded machine (a fresh process may still compile in the
  // background) but far below a spinning end (~100% a side)
  for (const r of rows.filter((x) => /notify|adaptive/.test(x.case))) expect(r.idle_cpu_pct).toBeLessThan(50);
  // 9P cases: 2 payloads × serial + pipelined; raw floors: serial only
  expect(rows.filter((r) => r.case === 'tcp')).toHaveLength(4);
  expect(rows.filter((r) => r.case === 'raw-sab-wait')).toHaveLength(2);
  expect(rows.filter((r) => r.case === 'raw-loop-wait')).toHaveLength(haveAddon() ? 2 : 0);
  // shm cases add the in-place writer; the copies column counts the client's transfers
  const zc = rows.filter((r) => r.case === 'shm-thread-notify' && r.payload === 65536 && r.mode.startsWith('serial'));
  expect(zc.map((r) => [r.mode, r.copies])).toEqual([['serial', 1], ['serial-inplace', 0]]);
  expect(rows.find((r) => r.case === 'shm-thread-notify' && r.payload === 64 && r.mode === 'serial')!.copies).toBe(2);
  const targets = channelTargets(rows);
  expect(targets.length).toBeGreaterThan(0);
  // every ratio line, zero-copy line and sleeping idle line ends with its mark
  for (const l of targets.filter((x) => /\(target [^)]*\)/.test(x) && !/ 1 copies| 2 copies/.test(x))) expect(l).toMatch(/ [✓✗]$/);
  const svg = latencySvg(rows);
  expect(svg).toMatch(/^<svg/);
  expect(svg).toContain('shm-thread-notify');
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-bench-out-'));
  try {
    const file = await writeResults('channel', rows, {}, dir);
    const json = JSON.parse(await fsp.readFile(file, 'utf8'));
    expect(Object.keys(json.rows[0])).toEqual(expect.arrayContaining(['case', 'mode', 'payload', 'p50_us', 'p99_us', 'ops_per_s', 'cpu_s']));
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('the echo floors: the rings alone, serial on one CPU, and the split they give in the targets', async () => {
  const cases = ['shm-thread-notify', 'shm-thread-echo', 'raw-loop-wait', 'raw-sab-wait', 'shm-proc-notify', 'shm-proc-echo'] as const;
  const rows = await runChannelBench({ cases: cases.filter((c) => !(c.startsWith('shm-proc') || c === 'raw-loop-wait') || haveAddon()), iterations: 30, warmup: 5, payloads: [64, 65536], placements: ['same-cpu', 'diff-cpu'], idle: false });
  const echo = rows.filter((r) => r.case.endsWith('-echo'));
  expect(echo.length).toBe(haveAddon() ? 4 : 2);
  for (const r of echo) {
    expect([r.mode, r.placement, r.effective_mode]).toEqual(['serial', 'same-cpu', 'notify']);
    expect(r.p50_us).toBeGreaterThan(0);
  }
  const lines = channelTargets(rows);
  expect(lines).toContainEqual(expect.stringMatching(/^shm-thread-echo \/ raw-sab-wait 64 B same-cpu \(the rings alone, no 9P\): .* = ×[\d.]+$/));
  expect(lines).toContainEqual(expect.stringMatching(/^shm-thread-notify − shm-thread-echo 64 B same-cpu \(9P client and server\): -?[\d.]+ µs$/));
  if (haveAddon()) expect(lines).toContainEqual(expect.stringMatching(/^shm-proc-echo − raw-loop-wait 64 B same-cpu \(the rings, both ends\): -?[\d.]+ µs$/));
});

test('the notify targets are taken over fresh driver processes: a median of each row with its spread, other rows untouched', async () => {
  const rows = await runChannelBench({ cases: ['shm-thread-notify', 'raw-sab-wait'], iterations: 30, warmup: 5, payloads: [64, 1024], placements: ['same-cpu'], idle: false });
  expect(await notifyTargetsAcrossProcesses(rows, { procs: 1 })).toBe(rows);
  const merged = await notifyTargetsAcrossProcesses(rows, { procs: 2, iterations: 30 });
  expect(merged).toHaveLength(rows.length);
  for (const r of merged) {
    const target = r.mode === 'serial' && r.payload === 64;
    if (!target) {
      expect(r).toEqual(rows.find((x) => x.case === r.case && x.mode === r.mode && x.payload === r.payload));
      continue;
    }
    expect(r.procs).toBe(2);
    expect(r.p50_min_us).toBeLessThanOrEqual(r.p50_us);
    expect(r.p50_us).toBeLessThanOrEqual(r.p50_max_us as number);
    expect(r.ops_per_s).toBeGreaterThan(0);
  }
  expect(merged.filter((r) => r.procs === 2).map((r) => r.case).sort()).toEqual(['raw-sab-wait', 'shm-thread-notify']);
  expect(channelTargets(merged)).toContainEqual(expect.stringMatching(/^shm-thread-notify \/ raw-sab-wait 64 B same-cpu: [\d.]+ \[median of 2 processes, [\d.]+–[\d.]+\] \/ /));
});

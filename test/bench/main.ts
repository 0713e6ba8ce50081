/**
 * `make bench` / `make bench-<suite>`: runs benchmark suites, prints their tables and writes
 * bench-results/<suite>.json. Usage: node dist/test/bench/main.js <suite|all> [--iterations N]
 * [--placement same-cpu,unpinned,unpinned-idle-poll] (default: same-cpu,unpinned; the third
 * needs /dev/cpu_dma_latency to be writable, see placement.ts). `make bench BENCH_ARGS=...`
 * passes these on.
 */
import { CORE_CASES, coreTargets, ratios, runCore } from './core.js';
import { channelTargets, latencySvg, notifyTargetsAcrossProcesses, runChannelBench } from './channel.js';
import { gatewaysSuite } from './gateways.js';
import { storageSuite } from './storage.js';
import { directorySuite } from './directory.js';
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { MESH_ENV, meshEnv } from '@prose/service';
import { logLine, shownRatio, table, writeResults, type Row } from './stats.js';
import { PLACEMENTS, cpuLatencyBoundUs, currentAffinity, type Placement } from './placement.js';

interface SuiteArgs {
  iterations?: number;
  placements?: Placement[];
}

type Suite = (a: SuiteArgs) => Promise<{ rows: Row[]; notes: string[] }>;

/** Every suite by name; each returns its rows and lines to print under its table. */
const SUITES: Record<string, Suite> = {
  async core(a) {
    const rows = await runCore({ iterations: a.iterations, placements: a.placements, log: logLine });
    const notes: string[] = [];
    for (const [x, y] of [['prose-tcp', 'diod-tcp'], ['prose-tcp', 'raw-tcp'], ['prose-unix', 'prose-tcp']] as const) {
      notes.push(`\n${x} / ${y} (p50 ratio < 1 and ops ratio > 1 mean ${x} is faster):`);
      for (const r of ratios(rows, x, y)) notes.push(`  ${r.placement.padEnd(9)} ${r.mode.padEnd(11)} ${String(r.payload).padStart(6)} B  p50 ×${shownRatio(r.p50_ratio)}  ops/s ×${shownRatio(r.ops_ratio)}`);
    }
    const capped = rows.find((r) => r.payload_sent !== undefined);
    if (capped) notes.push(`\nnote: ${capped.case} negotiated a smaller msize; its ${capped.payload} B rows write ${capped.payload_sent} B per Twrite.`);
    notes.push(...coreTargets(rows));
    notes.push(`cases: ${CORE_CASES.join(', ')}`);
    return { rows, notes };
  },
};

SUITES.channel = async (a) => {
  const log = logLine;
  const rows = await notifyTargetsAcrossProcesses(await runChannelBench({ iterations: a.iterations, log }), { iterations: a.iterations, log });
  await fsp.mkdir('bench-results', { recursive: true });
  await fsp.writeFile('bench-results/channel.svg', latencySvg(rows));
  const ignored = a.placements !== undefined ? ['', `--placement ignored: this suite runs its own placements (same-cpu, diff-cpu; node dist/test/bench/channel.js --placement ...)`] : [];
  return { rows, notes: ['', ...channelTargets(rows), 'plot: bench-results/channel.svg', ...ignored] };
};

SUITES.gateways = gatewaysSuite;
SUITES.storage = storageSuite;
SUITES.directory = directorySuite;

/** Lets other suites register themselves (each suite module adds its entry). */
export function addSuite(name: string, s: Suite): void {
  SUITES[name] = s;
}

function parseArgs(argv: string[]): { suites: string[]; args: SuiteArgs } {
  const args: SuiteArgs = {};
  const suites: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--iterations') args.iterations = Number(argv[++i]);
    else if (a === '--placement') {
      const ps = (argv[++i] ?? '').split(',');
      const bad = ps.filter((x) => !(PLACEMENTS as readonly string[]).includes(x));
      if (bad.length > 0) {
        process.stderr.write(`bench: unknown placement "${bad.join(',')}" (have: ${PLACEMENTS.join(', ')})\n`);
        process.exit(2);
      }
      args.placements = ps as Placement[];
    }
    else suites.push(a);
  }
  return { suites: suites.length ? suites : ['all'], args };
}

async function main(): Promise<void> {
  const { suites, args } = parseArgs(process.argv.slice(2));
  const names = suites.includes('all') ? Object.keys(SUITES) : suites;
  for (const n of names) {
    const suite = SUITES[n];
    if (!suite) {
      process.stderr.write(`bench: unknown suite "${n}" (have: ${Object.keys(SUITES).join(', ')})\n`);
      process.exit(2);
    }
    const bound = cpuLatencyBoundUs();
    const env = Object.keys(MESH_ENV).map((k) => `${k}=${process.env[k] ?? ''}`).join(' ');
    process.stdout.write(`\n== suite ${n} (driver affinity now: ${currentAffinity()}; CPU latency bound in force: ${bound === undefined ? 'unknown' : `${bound} µs`}; every process with ${env}) ==\n`);
    const { rows, notes } = await suite(args);
    process.stdout.write(table(rows) + '\n' + notes.join('\n') + '\n');
    const file = await writeResults(n, rows, { when: new Date().toISOString() });
    process.stdout.write(`wrote ${file}\n`);
  }
}

/**
 * The driver and everything it starts (servers, diod, client processes) run with the mesh's
 * environment (MESH_ENV, see @prose/service): the driver hosts some cases itself (the channel
 * suite's threads), and an environment is read once, at start. So a driver started without it
 * runs itself again with it, passing its exit status on.
 */
function rerunWithMeshEnv(): boolean {
  const missing = Object.keys(MESH_ENV).filter((k) => process.env[k] === undefined);
  if (missing.length === 0) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: meshEnv() });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal !== null ? 1 : 0)));
  return true;
}

if (require.main === module && !rerunWithMeshEnv()) {
  main().catch((e) => {
    process.stderr.write(`bench: ${(e as Error).stack}\n`);
    process.exit(1);
  });
}

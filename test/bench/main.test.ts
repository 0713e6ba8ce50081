/**
 * The bench driver as `make bench` runs it (node dist/test/bench/main.js, built by `make test`):
 * started without the mesh's environment it runs itself again with it, and every suite's
 * header says so; its exit status and its errors come through.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { distBench } from './core.js';

jest.setTimeout(120000);

const MAIN = path.join(distBench(), 'main.js');
const { MALLOC_ARENA_MAX: _, ...bare } = process.env;
const run = (args: string[], cwd?: string) => spawnSync(process.execPath, [MAIN, ...args], { env: bare, cwd, encoding: 'utf8', timeout: 110000 });

test('a bad suite or placement is a clear error and exit status 2, through the rerun', () => {
  const r = run(['nosuch']);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/bench: unknown suite "nosuch" \(have: core, /);
  const p = run(['core', '--placement', 'sideways']);
  expect(p.status).toBe(2);
  expect(p.stderr).toMatch(/unknown placement "sideways"/);
});

test('started without MALLOC_ARENA_MAX, a suite runs with it and says so', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prose-bench-main-'));
  try {
    const r = run(['core', '--iterations', '20', '--placement', 'same-cpu'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/== suite core \(.*every process with MALLOC_ARENA_MAX=1\) ==/);
    // Each rep's client process logged its layout, and the results were written.
    expect(r.stderr).toMatch(/^rep 1\/5 same-cpu: client pid \d+; layouts, MiB mod 64 \(layout\.ts\): client libc [\d.]+ builtins /m);
    const json = JSON.parse(readFileSync(path.join(dir, 'bench-results', 'core.json'), 'utf8'));
    expect(json.suite).toBe('core');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

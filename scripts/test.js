#!/usr/bin/env node
// Runs every Jest test and ends with the plain line "N passed, N failed" (Jest's own summary
// line is not of that form), computed from Jest's JSON results. Exit status is Jest's.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, '.jest-results.json');
fs.rmSync(out, { force: true });
const args = ['jest', '--ci', '--maxWorkers=2', '--json', `--outputFile=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
let passed = 0, failed = 0, skipped = 0;
try {
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  passed = j.numPassedTests;
  failed = j.numFailedTests + (j.numRuntimeErrorTestSuites || 0);
  skipped = j.numPendingTests + (j.numTodoTests || 0);
} catch (e) {
  console.error(`no Jest results (${e.message})`);
  failed = Math.max(failed, 1);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);

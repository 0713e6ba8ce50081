#!/usr/bin/env node
// Builds the prose_posix addon with node-gyp (npm's own copy) against this Node's headers.
// Runs as @prose/posix's install script during `npm ci`, and as `npm run build:native`.
// A failed build does not fail the install: the package loads without it and says so
// (`havePosix()` is false; the storage export then falls back to what Node offers).
// `--strict` makes a failure exit 1.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const strict = process.argv.includes('--strict');

function give(why) {
  console.warn(`@prose/posix: native addon not built (${why}); xattrs and getdents are unavailable.`);
  process.exit(strict ? 1 : 0);
}

function nodeGyp() {
  const tries = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    tries.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  return tries.find((p) => p && fs.existsSync(p));
}

function headers() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

if (process.platform !== 'linux') give(`${process.platform} is not Linux`);
const gyp = nodeGyp();
if (!gyp) give('node-gyp not found');
const args = [gyp, 'rebuild', '--directory', path.join(pkg, 'native')];
const dir = headers();
if (dir) args.push(`--nodedir=${dir}`);
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) give(`node-gyp exited with ${r.status ?? r.signal}`);
const out = path.join(pkg, 'build', 'Release');
fs.mkdirSync(out, { recursive: true });
fs.copyFileSync(path.join(pkg, 'native', 'build', 'Release', 'prose_posix.node'), path.join(out, 'prose_posix.node'));
console.log(`@prose/posix: built ${path.join(out, 'prose_posix.node')}`);

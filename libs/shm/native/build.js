#!/usr/bin/env node
// Builds the prose_shm addon with node-gyp (the copy bundled with npm) against this Node's own
// headers. Runs as @prose/shm's install script during `npm ci`, and as `npm run build:native`.
// A failed build is not fatal: the package still loads, thread mode works, and process mode
// reports why it is unavailable. `--strict` (used by build:native) makes a failure exit 1.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');
const strict = process.argv.includes('--strict');

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  return candidates.find((c) => c && fs.existsSync(c));
}

function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}

function fail(why) {
  const msg = `@prose/shm: native addon not built (${why}); shared memory between processes is unavailable, between threads it works.`;
  console.warn(msg);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') fail(`platform ${process.platform} is not Linux`);
const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found');
const args = [gyp, 'rebuild', '--directory', path.join(pkgDir, 'native')];
const nd = nodeDir();
if (nd) args.push(`--nodedir=${nd}`);
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) fail(`node-gyp exited with ${r.status ?? r.signal}`);
// node-gyp builds under native/build; the loader looks in <pkg>/build/Release.
const built = path.join(pkgDir, 'native', 'build', 'Release', 'prose_shm.node');
const dest = path.join(pkgDir, 'build', 'Release');
fs.mkdirSync(dest, { recursive: true });
fs.copyFileSync(built, path.join(dest, 'prose_shm.node'));
console.log(`@prose/shm: built ${path.join(dest, 'prose_shm.node')}`);

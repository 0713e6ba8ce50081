/** meshEnv: the environment the mesh's launchers give the Node processes they start. */
import { execFileSync } from 'node:child_process';
import { MESH_ENV, meshEnv } from './env.js';

test('adds MALLOC_ARENA_MAX=1 and keeps what the environment already says', () => {
  expect(meshEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: '1' });
  expect(meshEnv({ MALLOC_ARENA_MAX: '4' }).MALLOC_ARENA_MAX).toBe('4');
  expect(Object.isFrozen(MESH_ENV)).toBe(true);
});

test('a Node process started with it has no per-thread malloc arenas (64 MiB-aligned heaps)', () => {
  // A child with a worker thread, counting anonymous read-write mappings that begin on a 64 MiB
  // boundary: glibc's per-thread arena heaps.
  const script = `
    const { Worker } = require('node:worker_threads');
    new Worker('setTimeout(() => {}, 200)', { eval: true });
    setTimeout(() => {
      const M = 64n << 20n;
      const heaps = require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')
        .filter((l) => / rw-p 00000000 00:00 0/.test(l) && BigInt('0x' + l.split('-')[0]) % M === 0n);
      console.log(heaps.length);
      process.exit(0);
    }, 100);`;
  const heaps = (env: NodeJS.ProcessEnv) => Number(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }).trim());
  const { MALLOC_ARENA_MAX: _, ...without } = process.env;
  expect(heaps(meshEnv(without))).toBe(0);
  expect(heaps(without)).toBeGreaterThan(0);
});

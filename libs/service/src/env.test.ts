/** meshEnv: the environment the mesh's launchers give the Node processes they start. */
import { execFileSync } from 'node:child_process';
import { MESH_ENV, meshEnv } from './env.js';

test('adds MALLOC_ARENA_MAX=1 and keeps what the environment already says', () => {
  expect(meshEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: '1' });
  expect(meshEnv({ MALLOC_ARENA_MAX: '4' }).MALLOC_ARENA_MAX).toBe('4');
  expect(Object.isFrozen(MESH_ENV)).toBe(true);
});

test('a Node process started with it has no per-thread malloc arenas (64 MiB-aligned heaps)', () => {
  // A child with a worker thread, counting glibc's per-thread arena heaps: a 64 MiB reservation
  // that begins on a 64 MiB boundary, its used part read-write and the rest PROT_NONE right after.
  // (A mapping of something else can begin on such a boundary by chance; it is not 64 MiB.)
  const script = `
    const { Worker } = require('node:worker_threads');
    new Worker('setTimeout(() => {}, 200)', { eval: true });
    setTimeout(() => {
      const M = 64n << 20n;
      const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8').trim().split('\\n').map((l) => {
        const [range, perms] = l.split(' ');
        const [start, end] = range.split('-').map((x) => BigInt('0x' + x));
        return { start, end, perms, anonymous: / 00000000 00:00 0\\s*$/.test(l) };
      });
      const heaps = maps.filter((m, i) => m.anonymous && m.perms === 'rw-p' && m.start % M === 0n &&
        (m.end - m.start === M || (maps[i + 1]?.perms === '---p' && maps[i + 1].start === m.end && maps[i + 1].end - m.start === M)));
      console.log(heaps.length);
      process.exit(0);
    }, 100);`;
  const heaps = (env: NodeJS.ProcessEnv) => Number(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }).trim());
  const { MALLOC_ARENA_MAX: _, ...without } = process.env;
  expect(heaps(meshEnv(without))).toBe(0);
  expect(heaps(without)).toBeGreaterThan(0);
});

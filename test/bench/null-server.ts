/**
 * The 9P peer of the core benchmark: a server whose only file, `null`, discards writes (and
 * reads as empty). Listens on every dial string given as an argument and prints
 * `listening <addr>` for each once all are bound.
 */
import { Server, Tree, dir, file, silentLogger } from '@prose/server';
import { loopIdleMetric, pollLoopBeforeBlocking } from '@prose/shm';

/**
 * The event-loop polling every service runs with (@prose/service's `--busy-poll-us`, default
 * 50 µs; off when the process can run on one CPU only, so the same-cpu rows are untouched): the
 * null server stands for our server as the mesh runs it. The raw floor (raw-echo.ts) polls too.
 * Likewise every event loop of ours in the benchmarks, peers, floors and client processes alike,
 * drops the loop's idle-time metric as services do (`loop-idle-metric`, @prose/shm
 * `loopIdleMetric`): a system call fewer each time a loop sleeps. A loop that polls keeps it
 * (its window is judged on it): the null server and the raw floor drop it on one CPU only.
 */
export const PEER_BUSY_POLL_US = 50;

/** The null-file tree. */
export function nullTree(): Tree {
  return new Tree(dir('/', [file('null', { write: (_h, _off, data) => data.length, read: () => Buffer.alloc(0) }, { perm: 0o666 })]));
}

if (require.main === module) {
  (async () => {
    pollLoopBeforeBlocking(PEER_BUSY_POLL_US);
    loopIdleMetric(false);
    const server = new Server(nullTree(), { logger: silentLogger });
    // Every address is bound before any is announced: the parent starts on the first line.
    const ls = [];
    // The null file keeps nothing it is given, so big Twrites may be lent in place (see
    // ListenOptions.lendFrames): their receive buffers are reused once each write is answered.
    for (const a of process.argv.slice(2)) ls.push(await server.listen(a, { lendFrames: true }));
    for (const l of ls) process.stdout.write(`listening ${l.addr}\n`);
    process.on('SIGTERM', () => process.exit(0));
  })().catch((e) => {
    process.stderr.write(`null-server: ${(e as Error).message}\n`);
    process.exit(1);
  });
}

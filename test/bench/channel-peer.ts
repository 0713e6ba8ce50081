/**
 * Peers of suite `channel`.
 * - As a process (`node channel-peer.js [--echo] <addr>…`): a 9P server with the null file,
 *   listening on every dial string given (`shm!/path`, `unix!/path`, `tcp!127.0.0.1!0`); prints
 *   `listening <addr>` for each. On shm each channel waits in the mode its dialer asks for.
 *   With `--echo` its shm channels answer every frame with an Rwrite and no 9P server (`echo`).
 * - As a worker thread (workerData.role): 'server' serves the null file over shm between
 *   threads and posts a connect port, 'echo' the same with `echo`; 'raw-spin' / 'raw-wait'
 *   answer the SAB ping-pong floor, 'raw-loop' the same exchange woken through its event loop
 *   by an eventfd doorbell.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MsgType, encodeVec, get16 } from '@prose/protocol';
import { Server, silentLogger } from '@prose/server';
import { Doorbell, listenShm, listenShmThreads, loopIdleMetric, type DoorbellFds, type ShmConn } from '@prose/shm';
import { nullTree } from './null-server.js';

/** The SAB ping-pong floor: word 0 = request seq, word 16 = reply seq, word 32 = length; data at 4096. */
export const RAW = { REQ: 0, ACK: 16, LEN: 32, DATA: 4096 } as const;

function rawResponder(sab: SharedArrayBuffer, wait: boolean): void {
  const w = new Int32Array(sab, 0, 1024);
  const data = Buffer.from(sab, RAW.DATA);
  const sink = Buffer.allocUnsafe(data.length);
  let seq = 0;
  for (;;) {
    if (wait) Atomics.wait(w, RAW.REQ, seq);
    const v = Atomics.load(w, RAW.REQ);
    if (v === seq) continue;
    if (v < 0) return; // stop
    seq = v;
    const n = Atomics.load(w, RAW.LEN);
    data.copy(sink, 0, 0, n); // the receiver's copy out, as the shm transport makes one
    Atomics.store(w, RAW.ACK, seq);
    if (wait) Atomics.notify(w, RAW.ACK);
  }
}

/** The floor of event-loop ends: each request taken when the doorbell rings, answered with a ring back. */
function rawLoopResponder(sab: SharedArrayBuffer, fds: DoorbellFds): void {
  const w = new Int32Array(sab, 0, 1024);
  const data = Buffer.from(sab, RAW.DATA);
  const sink = Buffer.allocUnsafe(data.length);
  let seq = 0;
  const bell: Doorbell = new Doorbell(fds, () => {
    const v = Atomics.load(w, RAW.REQ);
    if (v < 0) return bell.close();
    if (v === seq) return;
    seq = v;
    data.copy(sink, 0, 0, Atomics.load(w, RAW.LEN));
    Atomics.store(w, RAW.ACK, seq);
    bell.ring();
  });
}

/**
 * The transport alone (cases shm-*-echo): every frame a Conn receives is answered with the
 * Rwrite a null file's server would send, encoded by the codec, without a 9P server (no
 * decode, no fid or tag tables, no dispatch).
 */
export function echo(c: ShmConn): void {
  c.start({
    frame: (f) => { c.send(encodeVec({ type: MsgType.Rwrite, tag: get16(f, 5), count: f.length - 23 }, '9P2000.L')); },
    close: () => {},
  });
}

if (!isMainThread && workerData?.role) {
  const role = workerData.role as string;
  loopIdleMetric(false); // every loop of ours in the benchmarks (null-server.ts)
  if (role === 'server' || role === 'echo') {
    const server = new Server(nullTree(), { logger: silentLogger, maxMsize: workerData.msize });
    const l = listenShmThreads(role === 'echo' ? echo : (c) => server.serve(c), workerData.layout ?? {});
    const port = l.connectPort();
    parentPort!.postMessage({ port }, [port]);
  } else if (role === 'raw-loop') {
    rawLoopResponder(workerData.sab as SharedArrayBuffer, workerData.bell as DoorbellFds);
  } else {
    rawResponder(workerData.sab as SharedArrayBuffer, role === 'raw-wait');
  }
} else if (require.main === module) {
  (async () => {
    loopIdleMetric(false);
    const server = new Server(nullTree(), { logger: silentLogger, maxMsize: Number(process.env.PROSE_BENCH_MSIZE) || undefined });
    const args = process.argv.slice(2);
    const echoing = args[0] === '--echo';
    for (const a of echoing ? args.slice(1) : args) {
      if (a.startsWith('shm!')) {
        const layout = JSON.parse(process.env.PROSE_BENCH_LAYOUT || '{}');
        const l = await listenShm(a, echoing ? echo : (c) => server.serve(c), layout);
        process.stdout.write(`listening ${l.addr}\n`);
      } else {
        const l = await server.listen(a);
        process.stdout.write(`listening ${l.addr}\n`);
      }
    }
    process.on('SIGTERM', () => process.exit(0));
  })().catch((e) => {
    process.stderr.write(`channel-peer: ${(e as Error).message}\n`);
    process.exit(1);
  });
}

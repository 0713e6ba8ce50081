// A worker-thread peer for the thread tests: requires the built package (npx tsc -b first).
// workerData: { port, mode, channels, blockUs }: dials `channels` times (default 1) and echoes
// every frame; posts 'ready' when all are up. A message 'close' closes them all in an orderly
// way; 'stats' posts the first Conn's blockStats.
'use strict';
const path = require('node:path');
const { workerData, parentPort } = require('node:worker_threads');
const shm = require(path.join(__dirname, '..', 'dist', 'index.js'));

(async () => {
  const conns = [];
  for (let i = 0; i < (workerData.channels || 1); i++) {
    const c = await shm.dialShmThread(workerData.port, { mode: workerData.mode, blockUs: workerData.blockUs });
    c.start({ frame: (f) => c.send(f), close: () => {} });
    conns.push(c);
  }
  parentPort.on('message', (m) => {
    if (m === 'close') for (const c of conns) c.close();
    if (m === 'stats') parentPort.postMessage({ stats: conns[0].blockStats });
  });
  parentPort.postMessage({ ready: conns.length, mode: conns[0] && conns[0].mode });
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack) }));

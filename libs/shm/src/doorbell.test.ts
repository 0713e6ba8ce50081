/**
 * Doorbell: the notify-mode wake-up path alone (eventfds watched by each thread's event loop),
 * between the test's thread and a worker that rings back every ring it gets.
 */
import { Worker } from 'node:worker_threads';
import { DIST } from './test-util.js';
import { Doorbell, doorbellPair } from './index.js';

test('two threads ring each other through their event loops; a ring is never lost, closing ends it', async () => {
  const [mine, theirs] = doorbellPair();
  // The worker echoes each ring; it lives until its doorbell is closed (the doorbell holds its loop).
  const w = new Worker(
    `const { Doorbell } = require(${JSON.stringify(DIST)});
     const { workerData, parentPort } = require('node:worker_threads');
     let n = 0;
     const bell = new Doorbell(workerData.fds, () => {
       if (++n === workerData.rounds) { bell.ring(); bell.close(); parentPort.postMessage(n); return; }
       bell.ring();
     });`,
    { eval: true, workerData: { fds: theirs, rounds: 200 } },
  );
  let got = 0;
  const done = new Promise<void>((resolve) => {
    const bell = new Doorbell(mine, () => {
      got++;
      if (got === 200) {
        bell.close();
        resolve();
      } else bell.ring();
    });
    w.once('online', () => bell.ring());
  });
  const [echoed] = await Promise.all([new Promise((r) => w.once('message', r)), done]);
  expect([echoed, got]).toEqual([200, 200]);
  // Nothing else keeps the worker's loop alive: with its doorbell closed it exits by itself.
  expect(await new Promise((r) => w.once('exit', r))).toBe(0);
});

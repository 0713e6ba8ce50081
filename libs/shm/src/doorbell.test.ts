/**
 * Doorbell: the notify-mode wake-up path alone (eventfds watched by each thread's event loop),
 * between the test's thread and a worker that rings back every ring it gets.
 */
import { Worker } from 'node:worker_threads';
import { DIST, runScript } from './test-util.js';
import { Doorbell, doorbellPair } from './index.js';

const ROUNDS = 200;

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
     });
     parentPort.postMessage('ready');`,
    { eval: true, workerData: { fds: theirs, rounds: ROUNDS } },
  );
  const events: string[] = [];
  const exited = new Promise<number>((resolve) => w.once('exit', (code) => (events.push(`exit ${code}`), resolve(code))));
  w.on('error', (e) => events.push(`error ${e.message}`));
  const messages: unknown[] = [];
  w.on('message', (m) => messages.push(m));
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    const bell = new Doorbell(mine, () => {
      got++;
      if (got === ROUNDS) {
        bell.close();
        resolve();
      } else bell.ring();
    });
    // The first ring may come before the worker watches its doorbell: the eventfd keeps it.
    bell.ring();
    // The worker rings its last and exits at once: its 'exit' may reach this loop before that
    // ring's wake-up does. So a clean exit gets a grace period; a failed one fails now.
    void exited.then((code) => {
      const check = () => {
        if (got >= ROUNDS) return;
        bell.close();
        reject(new Error(`worker ended after ${got} rings: ${events.join(', ')}`));
      };
      if (code === 0) setTimeout(check, 2000).unref();
      else check();
    });
  });
  const timer = setTimeout(() => void w.terminate(), 20000);
  try {
    await done;
    // Nothing else keeps the worker's loop alive: with its doorbell closed it exits by itself.
    expect(await exited).toBe(0);
  } finally {
    clearTimeout(timer);
    await w.terminate();
  }
  expect(got).toBe(ROUNDS);
  expect(messages).toEqual(['ready', ROUNDS]);
});

test('a worker terminated with a doorbell open, the addon loaded by it alone, leaves the process running', async () => {
  // In a child whose main thread never loads the addon: the worker's exit unloads it, so its
  // teardown must not leave libuv a close callback into the addon (that crashed the process).
  const out = await runScript(`
    const { Worker } = require('node:worker_threads');
    const w = new Worker(\`const shm = require(${JSON.stringify(DIST)});
      const [a] = shm.doorbellPair();
      new shm.Doorbell(a, () => {});
      require('node:worker_threads').parentPort.postMessage('up');\`, { eval: true });
    w.once('message', () => w.terminate());
    w.once('exit', () => setTimeout(() => console.log('alive'), 50));`);
  expect({ code: out.code, stdout: out.stdout }).toEqual({ code: 0, stdout: 'alive\n' });
});

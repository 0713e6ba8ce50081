/**
 * Doorbell: the notify-mode wake-up path alone (eventfds watched by each thread's event loop),
 * between the test's thread and a worker that rings back every ring it gets.
 */
import { Worker } from 'node:worker_threads';
import { DIST, runScript } from './test-util.js';
import { Doorbell, doorbellPair } from './index.js';
import { FdSignaller, threadBells } from './fd-signaller.js';
import { loadAddon } from './native.js';

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

test('doorbells are watched edge-triggered: 1,000 rings in one thread, none lost, none spurious', async () => {
  const [fa, fb] = doorbellPair();
  let a = 0;
  let b = 0;
  const N = 1000;
  let bellA!: Doorbell;
  let bellB!: Doorbell;
  const done = new Promise<void>((resolve) => {
    // Each side answers every ring once, so the counts stay in step if no ring is lost or doubled
    // (past 256 wake-ups too, where a watch reads its counter and asserts EPOLLET again).
    bellA = new Doorbell(fa, () => { a++; if (a < N) bellA.ring(); else resolve(); });
    bellB = new Doorbell(fb, () => { b++; bellB.ring(); });
  });
  bellA.ring();
  await done;
  await new Promise((r) => setTimeout(r, 30));
  try {
    expect([a, b]).toEqual([N, N]);
    expect([bellA.edgeTriggered, bellB.edgeTriggered]).toEqual([true, true]);
  } finally {
    bellA.close();
    bellB.close();
  }
});

test('an edge-triggered doorbell\'s unread counter does not end a later blocking wait at once', async () => {
  const addon = loadAddon();
  const [sa, sb] = threadBells(addon);
  const a = new FdSignaller(addon, sa[0], sa[1]);
  const b = new FdSignaller(addon, sb[0], sb[1]);
  let woken = 0;
  b.onWake = () => { woken++; };
  try {
    a.ringPeer();
    await new Promise((r) => setTimeout(r, 20)); // first wake-up: the watch becomes edge-triggered
    for (let i = 0; i < 3; i++) a.ringPeer(); // three rings, one wake-up, the counter left at 3
    await new Promise((r) => setTimeout(r, 20));
    expect(b.edgeTriggered).toBe(true);
    expect(woken).toBe(2);
    b.beforeBlock();
    const t0 = Date.now();
    expect(b.block(b.prepare(), 40_000)).toBe(false); // nothing new: the wait runs its 40 ms
    expect(Date.now() - t0).toBeGreaterThanOrEqual(30);
    a.ringPeer();
    expect(b.block(b.prepare(), 1_000_000)).toBe(true); // a new ring ends it at once
  } finally {
    a.close();
    b.close();
  }
});

test('PROSE_SHM_EDGE=0: level-triggered doorbells, drained at every wake-up, work the same', async () => {
  const out = await runScript(`
    const [fa, fb] = shm.doorbellPair();
    let a = 0, b = 0, A, B;
    A = new shm.Doorbell(fa, () => { if (++a < 300) A.ring(); else { console.log(a, b, A.edgeTriggered, B.edgeTriggered); A.close(); B.close(); } });
    B = new shm.Doorbell(fb, () => { b++; B.ring(); });
    A.ring();`, ['env', 'PROSE_SHM_EDGE=0']);
  expect({ code: out.code, stdout: out.stdout }).toEqual({ code: 0, stdout: '300 300 false false\n' });
});

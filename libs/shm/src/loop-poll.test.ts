/**
 * Polling the event loop before it blocks (loop-poll.ts, the addon's loopPoll). Each case runs
 * in a child process of its own (the built dist), so the polling of one never touches Jest's
 * loop or another case: turned off on one CPU, an idle loop that stops polling and costs no
 * CPU, a chatty exchange found by polling, timers on time, a process that exits on its own.
 * And loopIdleMetric: a loop that drops its idle-time metric, keeps it again, only its own, and
 * keeps it while it polls.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { haveAddon } from './native.js';
import { pollLoopBeforeBlocking } from './loop-poll.js';
import { threadCpus } from './affinity.js';
import { DIST, runScript, tmpSock } from './test-util.js';

const d = haveAddon() ? describe : describe.skip;
/** Cases that need a peer on another CPU. */
const multi = threadCpus().length >= 2 ? test : test.skip;

/** Runs `body` in a child (runScript); resolves with the JSON it printed last, or fails with its exit. */
async function child<T>(body: string, prefix: string[] = []): Promise<T> {
  const r = await runScript(body, prefix);
  if (r.code !== 0) throw new Error(`child exited ${r.code}\n${r.stderr}`);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
  } catch {
    throw new Error(`no JSON from the child: ${r.stdout}\n${r.stderr}`);
  }
}

test('the window is a whole number of µs from 0 to 1,000,000', () => {
  expect(() => pollLoopBeforeBlocking(-1)).toThrow(RangeError);
  expect(() => pollLoopBeforeBlocking(1.5)).toThrow(RangeError);
  expect(() => pollLoopBeforeBlocking(1_000_001)).toThrow(RangeError);
});

d('loop polling', () => {
  test('a thread that can run on one CPU only does not poll', async () => {
    const r = await child<{ on: boolean; why: string; stats: unknown }>(
      'console.log(JSON.stringify({ ...shm.pollLoopBeforeBlocking(50), stats: shm.loopPollStats() ?? null }));',
      ['taskset', '-c', '0'],
    );
    expect(r.on).toBe(false);
    expect(r.why).toMatch(/one CPU only/);
    expect(r.stats).toBeNull();
  });

  multi('an idle loop stops polling at once and spends no CPU on it', async () => {
    // A timer every 20 ms for 1 s: every sleep outlasts the window, so it halves to nothing.
    const r = await child<{ on: boolean; cpuMs: number; wallMs: number; windowUs: number; blocks: number; polls: number }>(`
      const res = shm.pollLoopBeforeBlocking(200);
      const t0 = Date.now(), c0 = process.cpuUsage();
      let n = 0;
      const t = setInterval(() => {
        if (++n < 50) return;
        clearInterval(t);
        const c = process.cpuUsage(c0);
        const s = shm.loopPollStats();
        console.log(JSON.stringify({ on: res.on, cpuMs: (c.user + c.system) / 1000, wallMs: Date.now() - t0, ...s }));
      }, 20);`);
    expect(r.on).toBe(true);
    expect(r.windowUs).toBe(0);
    expect(r.blocks).toBeGreaterThanOrEqual(45);
    // Polling stopped after the first sleeps: a few windows of at most 200 µs, not 50.
    expect(r.polls).toBeLessThan(5000);
    expect(r.cpuMs).toBeLessThan(r.wallMs * 0.05);
  });

  multi('a chatty exchange keeps its window and the loop finds most requests by polling', async () => {
    // The child answers 2,000 pings over a Unix socket pair; the parent (this test) pings.
    const script = `
      const net = require('node:net');
      const res = shm.pollLoopBeforeBlocking(200);
      const s = new net.Socket({ fd: 3, readable: true, writable: true });
      let n = 0;
      s.on('data', (b) => {
        n += b.length;
        s.write(b);
        if (n >= 2000) { console.log(JSON.stringify({ on: res.on, ...shm.loopPollStats() })); s.end(); }
      });`;
    const pair = await socketPair();
    const p = spawn(process.execPath, ['-e', `const shm = require(${JSON.stringify(DIST)});\n${script}`], { stdio: ['ignore', 'pipe', 'inherit', pair.childEnd] });
    pair.closeChildEnd();
    let out = '';
    p.stdout!.on('data', (b) => (out += b));
    const sock = pair.ours;
    for (let i = 0; i < 2000; i++) {
      const got = new Promise((r) => sock.once('data', r));
      sock.write(Buffer.of(i & 0xff));
      await got;
    }
    await new Promise((r) => p.once('exit', r));
    sock.destroy();
    const r = JSON.parse(out.trim()) as { on: boolean; windowUs: number; found: number; blocks: number };
    expect(r.on).toBe(true);
    // Each ping comes a few µs after its pong: the poll finds it (on another CPU while it
    // polls, or on this one after its yield). Without polling none would be found; a machine
    // busy with other work delays some pings past the window (most are found when it is not).
    expect(r.found).toBeGreaterThan(200);
  });

  multi('a timer due inside the window fires on time', async () => {
    // The longest window there is; the loop still wakes for the timer when it is due.
    const r = await child<{ late: number }>(`
      shm.pollLoopBeforeBlocking(1000000);
      const t0 = process.hrtime.bigint();
      setTimeout(() => console.log(JSON.stringify({ late: Number(process.hrtime.bigint() - t0) / 1e6 - 50 })), 50);`);
    expect(r.late).toBeGreaterThanOrEqual(-1);
    expect(r.late).toBeLessThan(25);
  });

  test('a worker polls its own loop, and exits cleanly when it alone loaded the addon', async () => {
    // The worker's exit unloads the addon (the main thread never loaded it): its teardown must
    // leave libuv no callback into the addon (that crashed the process).
    const r = await child<{ worker: { on: boolean }; mainStats: unknown }>(`
      const { Worker } = require('node:worker_threads');
      const w = new Worker(\`const shm = require(${JSON.stringify(DIST)});
        const r = shm.pollLoopBeforeBlocking(100);
        setTimeout(() => require('node:worker_threads').parentPort.postMessage(r), 30);\`, { eval: true });
      let got;
      w.once('message', (m) => (got = m));
      w.once('exit', () => setTimeout(() => console.log(JSON.stringify({ worker: got, mainStats: shm.loopPollStats() ?? null })), 30));`);
    expect(r.worker.on).toBe(threadCpus().length >= 2);
    expect(r.mainStats).toBeNull();
  });

  test('polling never keeps a process alive', async () => {
    const t0 = Date.now();
    const r = await child<{ on: boolean }>('console.log(JSON.stringify(shm.pollLoopBeforeBlocking(50)));');
    expect(typeof r.on).toBe('boolean');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

d('the loop\'s idle-time metric', () => {
  test('dropped, the loop reads as never idle; kept again, its sleeps count again', async () => {
    // Each phase sleeps 60 ms in the loop: Node's eventLoopUtilization() says how much was idle.
    const r = await child<{ start: unknown; dropped: unknown; idleOff: number; kept: unknown; idleOn: number; idleBefore: number }>(`
      const { performance } = require('node:perf_hooks');
      const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
      const idleOver = async () => { const e = performance.eventLoopUtilization(); await sleep(60); return performance.eventLoopUtilization(e).idle; };
      (async () => {
        const idleBefore = await idleOver();
        const start = shm.loopIdleMetric(true);
        const dropped = shm.loopIdleMetric(false);
        const idleOff = await idleOver();
        const kept = shm.loopIdleMetric(true);
        const idleOn = await idleOver();
        console.log(JSON.stringify({ start, dropped, idleOff, kept, idleOn, idleBefore }));
      })();`);
    expect(r.start).toEqual({ kept: true });
    expect(r.idleBefore).toBeGreaterThan(30);
    expect(r.dropped).toEqual({ kept: false });
    expect(r.idleOff).toBe(0);
    expect(r.kept).toEqual({ kept: true });
    expect(r.idleOn).toBeGreaterThan(30);
  });

  multi('a loop that polls before it blocks keeps it, and starting to poll takes it back', async () => {
    const r = await child<{ dropped: unknown; polling: unknown; refused: { kept: boolean; why: string }; idle: number; after: unknown }>(`
      const { performance } = require('node:perf_hooks');
      const dropped = shm.loopIdleMetric(false);
      const polling = shm.pollLoopBeforeBlocking(50);
      const refused = shm.loopIdleMetric(false);
      const e = performance.eventLoopUtilization();
      setTimeout(() => {
        const idle = performance.eventLoopUtilization(e).idle;
        shm.pollLoopBeforeBlocking(0);
        console.log(JSON.stringify({ dropped, polling, refused, idle, after: shm.loopIdleMetric(false) }));
      }, 60);`);
    expect(r.dropped).toEqual({ kept: false });
    expect(r.polling).toEqual({ on: true });
    expect(r.refused.kept).toBe(true);
    expect(r.refused.why).toMatch(/polls before it blocks/);
    expect(r.idle).toBeGreaterThan(30);
    expect(r.after).toEqual({ kept: false });
  });

  test('a worker that drops it leaves the main thread\'s loop as it was', async () => {
    const r = await child<{ worker: unknown; mainIdle: number }>(`
      const { Worker } = require('node:worker_threads');
      const { performance } = require('node:perf_hooks');
      const w = new Worker(\`
        const shm = require(\${JSON.stringify(${JSON.stringify(DIST)})});
        require('node:worker_threads').parentPort.postMessage(shm.loopIdleMetric(false));\`, { eval: true });
      w.once('message', (m) => {
        const e = performance.eventLoopUtilization();
        setTimeout(() => console.log(JSON.stringify({ worker: m, mainIdle: performance.eventLoopUtilization(e).idle })), 60);
      });`);
    expect(r.worker).toEqual({ kept: false });
    expect(r.mainIdle).toBeGreaterThan(30);
  });
});

/** A connected pair of Unix stream sockets: ours, and a descriptor to pass to a child as fd 3. */
async function socketPair(): Promise<{ ours: net.Socket; childEnd: net.Socket; closeChildEnd(): void }> {
  const sockPath = tmpSock('looppoll');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(sockPath, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const ours = net.connect(sockPath);
  await new Promise((r) => ours.once('connect', r));
  const childEnd = await accepted;
  server.close(); // (removes the socket file)
  childEnd.pause();
  return { ours, childEnd, closeChildEnd: () => childEnd.destroy() };
}

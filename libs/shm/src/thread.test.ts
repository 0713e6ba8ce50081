/**
 * Between worker threads: every mode, big frames through a small ring, 64 channels on one
 * listener, and a worker that is terminated.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import { listenShmThreads, SHM_MODES, ShmError, haveAddon, type ShmConn, type ShmListenOptions } from './index.js';
import { FIXTURES, echoAll, makeFrame, pingPong } from './test-util.js';

const workers = new Set<Worker>();
afterEach(async () => {
  await Promise.all([...workers].map((w) => w.terminate()));
  workers.clear();
});

/** A listener in this thread and a worker that dials it `channels` times and echoes. */
async function withWorker(mode: string, channels: number, opts: ShmListenOptions = {}, blockUs?: number) {
  const conns: ShmConn[] = [];
  const l = listenShmThreads((c) => conns.push(c), opts);
  const port = l.connectPort();
  const w = new Worker(path.join(FIXTURES, 'worker.js'), { workerData: { port, mode, channels, blockUs }, transferList: [port] });
  workers.add(w);
  const ready = await new Promise<{ ready?: number; error?: string; mode?: string }>((resolve) => w.once('message', resolve));
  if (ready.error) throw new Error(ready.error);
  expect(ready.ready).toBe(channels);
  expect(conns.length).toBe(channels);
  return { l, w, conns, workerMode: ready.mode };
}

describe.each(SHM_MODES)('threads, mode %s', (mode) => {
  test('echo of frames 7 B..1 MiB+24 through a 16 KiB ring', async () => {
    const { l, conns, workerMode } = await withWorker(mode, 1, { ringSize: 16384, slotCount: 4, slotSize: 65536 + 4096 });
    expect(workerMode).toBeDefined();
    const c = conns[0]!;
    const sizes = [7, 64, 1024, 8192 + 23, 65536 + 23, (1 << 20) + 24, 100, 7];
    const got = await echoAll(c, sizes);
    got.forEach((f, i) => expect(f.equals(makeFrame(sizes[i]!, i))).toBe(true));
    await l.close();
  });

  test('ping-pong of 2,000 frames', async () => {
    const { l, conns } = await withWorker(mode, 1);
    expect(await pingPong(conns[0]!, 2000)).toBe(2000);
    await l.close();
  });
});

test('64 channels on one listener, all echoing concurrently', async () => {
  const { l, conns } = await withWorker('notify', 64, { ringSize: 16384, slotCount: 2, slotSize: 8192 });
  const results = await Promise.all(conns.map((c, k) => echoAll(c, [64 + k, 5000, 200 + k])));
  results.forEach((got, k) => {
    expect(got[0]!.equals(makeFrame(64 + k, 0))).toBe(true);
    expect(got[1]!.equals(makeFrame(5000, 1))).toBe(true);
    expect(got[2]!.equals(makeFrame(200 + k, 2))).toBe(true);
  });
  await l.close();
});

test('worker.terminate(): the Conn closes with peer-gone within 1 s', async () => {
  const { l, w, conns } = await withWorker('notify', 1);
  const c = conns[0]!;
  const closed = new Promise<Error | undefined>((resolve) => c.start({ frame: () => {}, close: resolve }));
  const t0 = Date.now();
  await w.terminate();
  const err = await closed;
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(err).toBeInstanceOf(ShmError);
  expect((err as ShmError).reason).toBe('peer-gone');
  expect((err as ShmError).code).toBe('ECONNRESET');
  await l.close();
});

test('orderly close from the worker: close() without an error', async () => {
  const { l, w, conns } = await withWorker('adaptive', 1);
  const c = conns[0]!;
  const closed = new Promise<Error | undefined>((resolve) => c.start({ frame: () => {}, close: resolve }));
  w.postMessage('close');
  expect(await closed).toBeUndefined();
  await l.close();
});

test('a worker dialing notify with a bounded blocking wait (Atomics.wait on its doorbell) takes the frames in it', async () => {
  const { l, w, conns } = await withWorker('notify', 1, {}, 5000);
  expect(await pingPong(conns[0]!, 1000)).toBe(1000);
  w.postMessage('stats');
  const m = await new Promise<{ stats?: { hits: number; misses: number } }>((resolve) => w.on('message', (x) => x.stats && resolve(x)));
  expect(m.stats!.hits).toBeGreaterThan(0);
  await l.close();
});

test('worker.terminate() while it blocks: our Conn closes with peer-gone within 1 s', async () => {
  const { l, w, conns } = await withWorker('notify', 1, {}, 10000);
  const c = conns[0]!;
  let echoed!: () => void;
  const echo = new Promise<void>((r) => (echoed = r));
  const closed = new Promise<Error | undefined>((resolve) => c.start({ frame: () => echoed(), close: resolve }));
  c.send(makeFrame(64, 0));
  await echo; // the worker sent its echo and now waits (up to 10 ms) in Atomics.wait for the next frame
  const t0 = Date.now();
  await w.terminate();
  const err = await closed;
  expect(Date.now() - t0).toBeLessThan(1000);
  expect((err as ShmError).reason).toBe('peer-gone');
  await l.close();
});

/** Descriptors open in this process now (all threads share one table). */
const openFds = () => fs.readdirSync('/proc/self/fd').length;

/** Waits until `pred` holds (a worker's teardown closes its descriptors a little after terminate()). */
async function eventually(pred: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return pred();
}

describe('eventfd doorbells between threads (with the addon)', () => {
  const maybe = haveAddon() ? test : test.skip;

  maybe('a channel holds four descriptors, all closed after an orderly close', async () => {
    const before = openFds();
    const { l, w, conns } = await withWorker('notify', 8);
    const during = openFds();
    expect(await pingPong(conns[0]!, 200)).toBe(200); // (it starts conns[0])
    const rest = conns.slice(1);
    const closed = Promise.all(rest.map((x) => new Promise<void>((resolve) => x.start({ frame: () => {}, close: () => resolve() }))));
    w.postMessage('close');
    await closed;
    await l.close();
    await w.terminate();
    workers.delete(w);
    // 8 channels × 4 eventfd descriptors besides what the worker's own loop opened
    expect(during - before).toBeGreaterThanOrEqual(32);
    expect(await eventually(() => openFds() <= before)).toBe(true);
  });

  maybe('worker.terminate() mid-channel: the worker\'s descriptors go with its thread, ours with our Conn', async () => {
    const before = openFds();
    const { l, w, conns } = await withWorker('notify', 8);
    const closed = Promise.all(conns.map((x) => new Promise<void>((resolve) => x.start({ frame: () => {}, close: () => resolve() }))));
    await w.terminate();
    workers.delete(w);
    await closed;
    await l.close();
    expect(await eventually(() => openFds() <= before)).toBe(true);
  });
});

import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { Client } from '@prose/client';
import { Tree, dir, silentLogger, textFile } from '@prose/server';
import { ConfigError } from './config.js';
import { performance } from 'node:perf_hooks';
import { loopIdleMetric, threadCpus } from '@prose/shm';
import { startService, type ServiceDef } from './run.js';

const def: ServiceDef = {
  name: 'hello',
  options: { greeting: { type: 'string', default: 'hello', help: 'what greet says' } },
  build: (cfg) => ({ srv: new Tree(dir('/', [textFile('greet', () => `${cfg.greeting}\n`)])) }),
};

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

function check(addr: string, service: string): Promise<string> {
  const [, host, port] = addr.split('!');
  const c = new HealthClient(`${host}:${port}`, grpc.credentials.createInsecure()) as unknown as {
    check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void; close(): void;
  };
  return new Promise((resolve, reject) =>
    c.check({ service }, (err, res) => { c.close(); if (err) reject(err); else resolve(res.status); }));
}

let out: string[] = [];
beforeEach(() => {
  out = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out.push(String(s)); return true; });
});
afterEach(() => jest.restoreAllMocks());

test('a service listens where configured, serves its tree and answers health until stopped', async () => {
  const svc = await startService(def, ['--listen', 'tcp!127.0.0.1!0', '--greeting', 'hi there'], {}, silentLogger);
  try {
    expect(svc.addrs).toHaveLength(1);
    expect(out.join('')).toContain(`listening ${svc.addrs[0]}\n`);
    expect(out.join('')).toContain(`health ${svc.health!.addr}\n`);
    const c = await Client.connect(svc.addrs[0]!);
    await c.attach();
    expect((await c.readFile('greet')).toString()).toBe('hi there\n');
    c.close();
    expect(await check(svc.health!.addr, '')).toBe('SERVING');
    expect(await check(svc.health!.addr, 'prose.hello')).toBe('SERVING');
    svc.health!.setServing(false);
    expect(await check(svc.health!.addr, 'prose.hello')).toBe('NOT_SERVING');
  } finally {
    await svc.stop();
  }
});

test('bad configuration is a ConfigError naming the option', async () => {
  await expect(startService(def, ['--listen', 'bogus'], {}, silentLogger)).rejects.toThrow(/bad dial string "bogus"/);
  await expect(startService(def, ['--max-msize', 'big'], {}, silentLogger)).rejects.toThrow(ConfigError);
  await expect(startService(def, ['--busy-poll-us', '-5'], {}, silentLogger)).rejects.toThrow(/busy-poll-us: want a whole number of µs/);
  await expect(startService(def, [], { PROSE_BUSY_POLL_US: '2000000' }, silentLogger)).rejects.toThrow(/busy-poll-us/);
  await expect(startService(def, ['--health', 'unix!/x'], {}, silentLogger)).rejects.toThrow(/must be tcp!host!port/);
});

/** How much of the next 60 ms this (Jest's) loop spent asleep, by Node's own idle-time metric. */
async function idleOver60ms(): Promise<number> {
  const e = performance.eventLoopUtilization();
  await new Promise((r) => setTimeout(r, 60));
  return performance.eventLoopUtilization(e).idle;
}

test('services that do not poll drop the loop\'s idle-time metric while they run, unless told to keep it', async () => {
  const base = ['--listen', 'tcp!127.0.0.1!0', '--health', 'none', '--busy-poll-us', '0'];
  loopIdleMetric(true); // whatever a test file run before in this worker left
  expect(await idleOver60ms()).toBeGreaterThan(30);
  const a = await startService(def, base, {}, silentLogger);
  const b = await startService(def, base, {}, silentLogger);
  try {
    expect(await idleOver60ms()).toBe(0);
    await a.stop();
    expect(await idleOver60ms()).toBe(0); // b still runs without it
  } finally {
    await a.stop();
    await b.stop();
  }
  expect(await idleOver60ms()).toBeGreaterThan(30); // the last one gave it back
  const kept = await startService(def, [...base, '--loop-idle-metric'], {}, silentLogger);
  try {
    expect(await idleOver60ms()).toBeGreaterThan(30);
  } finally {
    await kept.stop();
  }
  const viaEnv = await startService(def, base, { PROSE_LOOP_IDLE_METRIC: 'true' }, silentLogger);
  try {
    expect(await idleOver60ms()).toBeGreaterThan(30);
  } finally {
    await viaEnv.stop();
  }
});

(threadCpus().length >= 2 ? test : test.skip)('a service whose loop polls keeps the metric: the window is judged on it', async () => {
  const svc = await startService(def, ['--listen', 'tcp!127.0.0.1!0', '--health', 'none', '--busy-poll-us', '50'], {}, silentLogger);
  try {
    expect(await idleOver60ms()).toBeGreaterThan(30);
  } finally {
    await svc.stop();
  }
});

/**
 * Failover end to end: a 3-node NATS cluster, two providers of one service sharing their data
 * (the shared-file fixture; then services/storage over one export directory), a partition's
 * name space streaming 2,000 reads and writes while the provider it uses is SIGKILLed
 * mid-stream. The stream completes, every acknowledged write is on disk, and the failover gap
 * is measured and printed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Directory, NatsStore } from '@prose/directory';
import { Namespace, type FailoverInfo } from '@prose/namespace';
import { REPO_ROOT } from '../support/child.js';
import { haveNatsServer, startNats, type NatsCluster } from '../support/nats.js';
import { startProvider, stream, type Provider } from './procs.js';
import { until } from '../support/until.js';

jest.setTimeout(55000);
const maybe = haveNatsServer() ? describe : describe.skip;
const STORAGE_MAIN = path.join(REPO_ROOT, 'services', 'storage', 'dist', 'main.js');
const TIME_MAIN = path.join(REPO_ROOT, 'services', 'time', 'dist', 'main.js');

maybe('failover with a 3-node NATS directory', () => {
  let nats: NatsCluster;
  let store: NatsStore;
  let directory: Directory;
  let tmp: string;
  const procs: Provider[] = [];

  beforeAll(async () => {
    nats = await startNats(3);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-failover-'));
    store = await NatsStore.connect({ servers: nats.servers, replicas: 3, timeoutMs: 20000 });
    directory = new Directory(store);
    await directory.ready();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    directory?.close();
    await store?.close();
    await nats?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('shared-file providers: one SIGKILLed mid-stream, the stream completes, no acknowledged write lost', async () => {
    const disk = path.join(tmp, 'shared.dat');
    const extra = ['--registry-lease-ms', '1500', '--registry-replicas', '3'];
    procs.push(await startProvider(nats.servers, disk, extra), await startProvider(nats.servers, disk, extra));
    await until('both providers', async () => (await directory.lookup('shared')).length === 2);
    const gaps: FailoverInfo[] = [];
    const ns = new Namespace({ directory, onFailover: (i) => gaps.push(i) });
    try {
      const s = await ns.mount('/n/shared', { service: 'shared' });
      const victim = procs.find((p) => p.provider === s.provider)!;
      expect(victim).toBeDefined();
      const r = await stream(ns, '/n/shared/data', () => victim.kill('SIGKILL'), disk);
      expect(r.acked).toBe(1000);
      expect(r.bad).toBe(0);
      expect(gaps.length).toBe(1);
      expect(gaps[0]!.from).toBe(victim.provider);
      expect(s.provider).not.toBe(victim.provider);
      process.stdout.write(`failover (shared-file): gap ${gaps[0]!.gapMs} ms, longest op ${r.longest} ms, 2000 ops in ${r.total} ms, ${r.acked} writes verified\n`);
      expect(gaps[0]!.gapMs).toBeLessThan(1000);
      // The dead provider leaves the directory when its lease ends.
      await until('victim gone', async () => !(await directory.lookup('shared')).some((c) => c.record.provider === victim.provider), 3000);
    } finally {
      await ns.close();
    }
  });

  (fs.existsSync(STORAGE_MAIN) ? test : test.skip)('services/storage over one export: same stream, same guarantees', async () => {
    const exp = path.join(tmp, 'export');
    fs.mkdirSync(exp);
    fs.writeFileSync(path.join(exp, 'data'), '');
    const start = () => startProvider(nats.servers, '', ['--registry-lease-ms', '1500', '--registry-replicas', '3', '--export', exp], 15000, STORAGE_MAIN);
    procs.push(await start(), await start());
    await until('both storage providers', async () => (await directory.lookup('storage')).length === 2);
    const gaps: FailoverInfo[] = [];
    const ns = new Namespace({ directory, onFailover: (i) => gaps.push(i) });
    try {
      const s = await ns.mount('/n/data', { service: 'storage' });
      const victim = procs.find((p) => p.provider === s.provider)!;
      const r = await stream(ns, '/n/data/data', () => victim.kill('SIGKILL'), path.join(exp, 'data'));
      expect(r.bad).toBe(0);
      expect(gaps.length).toBe(1);
      process.stdout.write(`failover (storage): gap ${gaps[0]!.gapMs} ms, longest op ${r.longest} ms, 2000 ops in ${r.total} ms, ${r.acked} writes verified\n`);
    } finally {
      await ns.close();
    }
  });

  (fs.existsSync(TIME_MAIN) ? test : test.skip)('services/time: 2,000 reads of an open nsec and of /wall by path go on through a SIGKILL', async () => {
    const start = () => startProvider(nats.servers, '', ['--registry-lease-ms', '1500', '--registry-replicas', '3'], 15000, TIME_MAIN);
    procs.push(await start(), await start());
    await until('both time providers', async () => (await directory.lookup('time')).length === 2);
    const gaps: FailoverInfo[] = [];
    const ns = new Namespace({ directory, onFailover: (i) => gaps.push(i) });
    try {
      const s = await ns.mount('/dev/time', { service: 'time' });
      const victim = procs.find((p) => p.provider === s.provider)!;
      const nsec = await ns.open('/dev/time/nsec');
      let last = 0n;
      let longest = 0;
      for (let i = 0; i < 2000; i++) {
        if (i === 1000) victim.kill('SIGKILL');
        const t = Date.now();
        if (i % 10 === 9) {
          expect((await ns.readFile('/dev/time/wall')).toString()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\n$/);
        } else {
          const v = BigInt((await nsec.read(0, 64)).toString().trim());
          expect(v).toBeGreaterThanOrEqual(last);
          last = v;
        }
        longest = Math.max(longest, Date.now() - t);
      }
      await nsec.close();
      expect(gaps.length).toBe(1);
      expect(s.provider).not.toBe(victim.provider);
      process.stdout.write(`failover (time): gap ${gaps[0]!.gapMs} ms, longest op ${longest} ms\n`);
    } finally {
      await ns.close();
    }
  });

  test('a SIGSTOPped provider: requests hang until its lease ends, then move to the other provider', async () => {
    const disk = path.join(tmp, 'stopped.dat');
    const lease = 1500;
    const extra = ['--name', 'frozen', '--registry-lease-ms', String(lease), '--registry-replicas', '3'];
    const mine = [await startProvider(nats.servers, disk, extra), await startProvider(nats.servers, disk, extra)];
    procs.push(...mine);
    await until('both frozen providers', async () => (await directory.lookup('frozen')).length === 2);
    const gaps: FailoverInfo[] = [];
    const ns = new Namespace({ directory, onFailover: (i) => gaps.push(i) });
    try {
      const s = await ns.mount('/n/frozen', { service: 'frozen' });
      const victim = mine.find((p) => p.provider === s.provider)!;
      const t0 = Date.now();
      const r = await stream(ns, '/n/frozen/data', () => victim.kill('SIGSTOP'), disk);
      expect(r.bad).toBe(0);
      expect(gaps.length).toBe(1);
      expect(s.provider).not.toBe(victim.provider);
      expect(r.longest).toBeLessThan(lease + 1000);
      process.stdout.write(`failover (SIGSTOP, lease ${lease} ms): longest op ${r.longest} ms, stream ${Date.now() - t0} ms\n`);
    } finally {
      await ns.close();
    }
  });
});

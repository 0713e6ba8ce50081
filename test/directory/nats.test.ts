/**
 * The directory on real nats-server processes: one node (records, watch, lease expiry,
 * micro-services ping), a 3-node cluster losing a node (lookups, watches and registrations go
 * on), and a SIGSTOPped provider that leaves lookups within its lease and comes back on SIGCONT.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Directory, NatsStore, makeRecord, register, type DirectoryEvent } from '@prose/directory';
import { haveNatsServer, startNats, type NatsCluster } from '../support/nats.js';
import { startProvider, type Provider } from './procs.js';
import { until } from '../support/until.js';

jest.setTimeout(90000);

/**
 * How long the cluster may take to recover from a node loss: nats-server 2.9.10 elects a new
 * stream leader 2-9 s after the kill in these tests, and a split vote adds another round.
 */
const RECOVERY_MS = 30000;
const maybe = haveNatsServer() ? describe : describe.skip;

async function nextEvent(it: AsyncIterator<DirectoryEvent>, ms = 8000, want?: (e: DirectoryEvent) => boolean): Promise<DirectoryEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('no event in time');
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error('no event in time')), left); });
    const r = await Promise.race([it.next(), timeout]).finally(() => clearTimeout(t));
    if (r.done) throw new Error('watch ended');
    if (!want || want(r.value)) return r.value;
  }
}

maybe('directory on one nats-server', () => {
  let nats: NatsCluster;
  let a: NatsStore | undefined;
  let b: NatsStore | undefined;
  beforeAll(async () => { nats = await startNats(1); });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await nats?.stop();
  });

  test('put, lookup, watch, expiry, ping, deregister across two connections', async () => {
    a = await NatsStore.connect({ servers: nats.servers, bucket: 'prose_t1' });
    b = await NatsStore.connect({ servers: nats.servers, bucket: 'prose_t1' });
    const dir = new Directory(b);
    await dir.ready();
    const w = dir.watch();
    const reg = await register(a, { service: 'time', provider: 'p1', addrs: ['tcp!127.0.0.1!7000'], zone: 'z1' }, { ttlMs: 900 });
    const e = await nextEvent(w);
    expect([e.kind, e.service, e.provider, e.record!.zone]).toEqual(['put', 'time', 'p1', 'z1']);
    expect((await dir.lookup('time')).map((c) => c.addr)).toEqual(['tcp!127.0.0.1!7000']);
    expect((await dir.lookup('time', { fresh: true })).map((c) => c.addr)).toEqual(['tcp!127.0.0.1!7000']);
    expect(await b.get('time', 'p1')).toMatchObject({ provider: 'p1' });
    const up = await dir.ping('time');
    expect(up.map((p) => [p.service, p.provider])).toEqual([['time', 'p1']]);

    // Refreshed every ttl/3: still live after three leases, with no events.
    await new Promise((r) => setTimeout(r, 2700));
    expect((await dir.lookup('time')).length).toBe(1);

    // A record nobody refreshes expires for readers (watch and lookups), though still stored.
    await a.put(makeRecord({ service: 'time', provider: 'stale', addrs: ['tcp!127.0.0.1!7001'] }, 500));
    expect((await nextEvent(w)).provider).toBe('stale');
    const ex = await nextEvent(w, 3000);
    expect([ex.kind, ex.provider]).toEqual(['expire', 'stale']);
    expect((await dir.lookup('time', { fresh: true })).map((c) => c.record.provider)).toEqual(['p1']);
    expect((await b.list('time')).length).toBe(2);

    await reg.stop();
    const d = await nextEvent(w, 3000, (x) => x.provider === 'p1');
    expect(d.kind).toBe('delete');
    expect(await dir.ping('time', 300)).toEqual([]);
    await w.return!();
    dir.close();
  });
});

maybe('directory on a 3-node nats cluster', () => {
  let nats: NatsCluster;
  const stores: NatsStore[] = [];
  const providers: Provider[] = [];
  let tmp: string;
  beforeAll(async () => {
    nats = await startNats(3);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-dir-'));
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.stop()));
    for (const s of stores) await s.close();
    await nats?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('one node killed: lookups, watches and registrations go on', async () => {
    const open = async () => {
      const s = await NatsStore.connect({ servers: nats.servers, bucket: 'prose_channels', replicas: 3, timeoutMs: 20000 });
      stores.push(s);
      return s;
    };
    const s1 = await open();
    const s2 = await open();
    const dir = new Directory(s2);
    await dir.ready();
    const w = dir.watch();
    const r1 = await register(s1, { service: 'storage', provider: 'a', addrs: ['tcp!127.0.0.1!7100'] }, { ttlMs: 1500 });
    expect((await nextEvent(w)).provider).toBe('a');

    // Kill the node the watching client is talking to (the registering one may be on it too).
    const victim = nats.nodes.find((n) => n.port === s2.nc.info?.port)!;
    expect(victim).toBeDefined();
    await victim.kill();
    const t0 = Date.now();
    const r2 = await (async () => {
      for (;;) {
        try {
          return await register(s1, { service: 'storage', provider: 'b', addrs: ['tcp!127.0.0.1!7101'] }, { ttlMs: 1500 });
        } catch (e) {
          if (Date.now() - t0 > RECOVERY_MS) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
    const eb = await nextEvent(w, RECOVERY_MS, (e) => e.provider === 'b');
    expect(eb.kind).toBe('put');
    process.stdout.write(`directory: registration after a node kill took ${Date.now() - t0} ms\n`);

    // Leases keep being refreshed through the survivors: both stay live past several leases.
    await new Promise((r) => setTimeout(r, 3500));
    expect((await dir.lookup('storage')).map((c) => c.record.provider).sort()).toEqual(['a', 'b']);
    expect((await dir.lookup('storage', { fresh: true })).map((c) => c.record.provider).sort()).toEqual(['a', 'b']);
    const other = await open();
    expect((await other.list('storage')).map((r) => r.provider).sort()).toEqual(['a', 'b']);

    await r2.stop();
    expect((await nextEvent(w, 5000, (e) => e.provider === 'b')).kind).toBe('delete');
    await r1.stop();
    await w.return!();
    dir.close();
  });

  test('a SIGSTOPped provider leaves lookups within its lease and comes back after SIGCONT', async () => {
    const s = await NatsStore.connect({ servers: nats.servers, bucket: 'prose_channels', replicas: 3, timeoutMs: 20000 });
    stores.push(s);
    const dir = new Directory(s);
    await dir.ready();
    const file = path.join(tmp, 'shared');
    const lease = 1500;
    const p = await startProvider(nats.servers, file, ['--registry-lease-ms', String(lease), '--registry-replicas', '3']);
    providers.push(p);
    await until('provider visible', async () => (await dir.lookup('shared')).some((c) => c.record.provider === p.provider));
    expect((await dir.lookup('shared'))[0]!.addr).toBe(p.addr);

    p.kill('SIGSTOP');
    const gone = await until('provider gone', async () => !(await dir.lookup('shared')).some((c) => c.record.provider === p.provider), lease + 2000);
    expect(gone).toBeLessThanOrEqual(lease + 200);
    process.stdout.write(`directory: SIGSTOPped provider left lookups after ${gone} ms (lease ${lease} ms)\n`);

    p.kill('SIGCONT');
    const back = await until('provider back', async () => (await dir.lookup('shared')).some((c) => c.record.provider === p.provider), 5000);
    process.stdout.write(`directory: provider back ${back} ms after SIGCONT\n`);
    dir.close();
  });
});

/**
 * No NATS at all: the registry service runs the embedded store, providers register through its
 * gRPC address (`--registry tcp!…`), and a partition's directory reads it the same way
 * (GrpcStore). The NATS flows hold: lookup, /chan over 9P, a SIGSTOPped provider leaving within
 * its lease and coming back, and failover under a 2,000-operation stream with a SIGKILL.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@prose/client';
import { Directory, GrpcStore } from '@prose/directory';
import { Namespace, type FailoverInfo } from '@prose/namespace';
import { startServiceProc, type ServiceProc } from '../support/child.js';
import { startProvider, stream, type Provider } from './procs.js';
import { until } from '../support/until.js';

jest.setTimeout(45000);

describe('directory on the embedded store of the registry service', () => {
  let reg: ServiceProc;
  let store: GrpcStore;
  let directory: Directory;
  let tmp: string;
  const procs: Provider[] = [];
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-embedded-'));
    reg = await startServiceProc('registry', ['--listen', 'tcp!127.0.0.1!0', '--health', 'tcp!127.0.0.1!0']);
    store = new GrpcStore(reg.health!);
    directory = new Directory(store);
    await directory.ready();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    directory?.close();
    await store?.close();
    await reg?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('register through gRPC, lookup, /chan, SIGSTOP/SIGCONT, failover under a stream', async () => {
    const disk = path.join(tmp, 'shared.dat');
    const lease = 1500;
    const extra = ['--registry-lease-ms', String(lease)];
    procs.push(await startProvider(reg.health!, disk, extra), await startProvider(reg.health!, disk, extra));
    await until('both providers', async () => (await directory.lookup('shared')).length === 2);

    const c = await Client.connect(reg.addr);
    await c.attach();
    expect((await c.list('chan/shared')).map((e) => e.name).sort()).toEqual(procs.map((p) => p.provider).sort());
    expect((await c.readFile(`chan/shared/${procs[0]!.provider}/addr`)).toString()).toBe(`${procs[0]!.addr}\n`);
    c.close();

    // Refreshes through gRPC keep both live past several leases.
    await new Promise((r) => setTimeout(r, 2 * lease));
    expect((await directory.lookup('shared')).length).toBe(2);

    const stopped = procs[1]!;
    stopped.kill('SIGSTOP');
    const gone = await until('stopped provider gone', async () => !(await directory.lookup('shared')).some((x) => x.record.provider === stopped.provider), lease + 2000);
    expect(gone).toBeLessThanOrEqual(lease + 300);
    stopped.kill('SIGCONT');
    await until('provider back', async () => (await directory.lookup('shared')).some((x) => x.record.provider === stopped.provider), 5000);

    const gaps: FailoverInfo[] = [];
    const ns = new Namespace({ directory, onFailover: (i) => gaps.push(i) });
    try {
      const s = await ns.mount('/n/shared', { service: 'shared' });
      const victim = procs.find((p) => p.provider === s.provider)!;
      const r = await stream(ns, '/n/shared/data', () => victim.kill('SIGKILL'), disk);
      expect(r.bad).toBe(0);
      expect(gaps.length).toBe(1);
      expect(s.provider).not.toBe(victim.provider);
      process.stdout.write(`failover (embedded store): gap ${gaps[0]!.gapMs} ms, longest op ${r.longest} ms, ${r.acked} writes verified\n`);
    } finally {
      await ns.close();
    }
  });
});

import { Directory, MemoryStore, choose, makeRecord, register, type DirectoryEvent } from './index.js';

async function nextEvent(it: AsyncIterator<DirectoryEvent>, ms = 3000): Promise<DirectoryEvent> {
  const t = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no event')), ms).unref());
  const r = await Promise.race([it.next(), t]);
  if (r.done) throw new Error('watch ended');
  return r.value;
}

describe('choose', () => {
  const rec = (provider: string, addrs: string[], host: string, load = 0) =>
    makeRecord({ service: 's', provider, addrs, host, load }, 1000);

  test('same host: shm before unix before tcp; other hosts only by tcp; least loaded among equals', () => {
    const rs = [
      rec('far', ['shm!x', 'unix!/a', 'tcp!10.0.0.2!564'], 'other', 3),
      rec('near-tcp', ['tcp!127.0.0.1!1'], 'me', 0),
      rec('near-unix', ['unix!/b', 'tcp!127.0.0.1!2'], 'me', 5),
      rec('near-shm', ['tcp!127.0.0.1!3', 'shm!prose-1'], 'me', 9),
      rec('near-unix-light', ['unix!/c'], 'me', 1),
    ];
    const got = choose(rs, { host: 'me' }).map((c) => `${c.record.provider} ${c.addr}`);
    expect(got).toEqual([
      'near-shm shm!prose-1', 'near-unix-light unix!/c', 'near-unix unix!/b', 'near-tcp tcp!127.0.0.1!1', 'far tcp!10.0.0.2!564',
    ]);
    expect(choose(rs, { host: 'me', transports: ['tcp'] })[0]!.record.provider).toBe('near-tcp');
    expect(choose(rs, { host: 'me', exclude: new Set(['near-shm']) })[0]!.record.provider).toBe('near-unix-light');
  });
});

describe('embedded store', () => {
  test('register, lookup, watch, lease expiry, come back, deregister', async () => {
    const store = new MemoryStore();
    const dir = new Directory(store);
    await dir.ready();
    const w = dir.watch();
    const reg = await register(store, { service: 'time', provider: 'p1', addrs: ['tcp!127.0.0.1!5000'], load: 2 }, { ttlMs: 600, announce: true });
    const e1 = await nextEvent(w);
    expect([e1.kind, e1.service, e1.provider, e1.record!.addrs]).toEqual(['put', 'time', 'p1', ['tcp!127.0.0.1!5000']]);
    expect((await dir.lookup('time')).map((c) => c.addr)).toEqual(['tcp!127.0.0.1!5000']);
    expect((await dir.lookup('time', { fresh: true })).map((c) => c.addr)).toEqual(['tcp!127.0.0.1!5000']);
    expect((await dir.ping('time')).map((p) => p.provider)).toEqual(['p1']);

    // Refreshes keep it alive beyond one lease and say nothing on the watch.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await dir.lookup('time')).length).toBe(1);

    await reg.update({ load: 7 });
    const e2 = await nextEvent(w);
    expect([e2.kind, e2.record!.load]).toEqual(['put', 7]);

    // A provider that stops refreshing (a record put by hand) expires for readers.
    await store.put(makeRecord({ service: 'time', provider: 'p2', addrs: ['tcp!127.0.0.1!5001'] }, 400));
    expect((await nextEvent(w)).provider).toBe('p2');
    expect((await dir.lookup('time')).length).toBe(2);
    const t0 = Date.now();
    const e3 = await nextEvent(w);
    expect([e3.kind, e3.provider]).toEqual(['expire', 'p2']);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await dir.lookup('time')).map((c) => c.record.provider)).toEqual(['p1']);
    expect((await dir.list(undefined, { includeExpired: true })).length).toBe(2);

    // ... and comes back when refreshed.
    await store.put(makeRecord({ service: 'time', provider: 'p2', addrs: ['tcp!127.0.0.1!5001'] }, 5000));
    expect((await nextEvent(w)).kind).toBe('put');

    await reg.stop();
    const e4 = await nextEvent(w);
    expect([e4.kind, e4.provider]).toEqual(['delete', 'p1']);
    expect(await dir.services()).toEqual(['time']);
    await w.return!();
    dir.close();
    await store.close();
  });

  test('bad names and addresses are refused', async () => {
    const store = new MemoryStore();
    await expect(register(store, { service: 'a.b', addrs: ['tcp!h!1'] })).rejects.toMatchObject({ code: 'EBADNAME' });
    await expect(register(store, { service: 'ok', addrs: [] })).rejects.toMatchObject({ code: 'EBADRECORD' });
    await expect(register(store, { service: 'ok', addrs: ['nonsense'] })).rejects.toMatchObject({ code: 'EBADRECORD' });
    await store.close();
  });
});

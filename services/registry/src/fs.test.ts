import { AbortError, Client } from '@prose/client';
import { Directory, MemoryStore, makeRecord } from '@prose/directory';
import { Server, silentLogger } from '@prose/server';
import { connPair } from '@prose/transport';
import { eventLine, registryTree } from './fs.js';

test('/chan follows the directory; events block, survive a flush and report put, expire and delete', async () => {
  const store = new MemoryStore();
  const d = new Directory(store);
  await d.ready();
  const server = new Server(registryTree(d, 'here'), { logger: silentLogger });
  const [a, b] = connPair();
  server.serve(a);
  const c = await Client.connect(b, { version: '9P2000' });
  await c.attach({ uname: 'glenda' });
  try {
    expect(await c.list('chan')).toEqual([]);
    const ev = await (await c.walk('events')).open(0);
    let off = 0;
    const next = async (signal?: AbortSignal) => {
      const r = await ev.read(off, 1024, { signal });
      off += r.length;
      return r.toString();
    };
    const ac = new AbortController();
    const flushed = next(ac.signal);
    ac.abort();
    await expect(flushed).rejects.toBeInstanceOf(AbortError);

    await store.put(makeRecord({ service: 'cons', provider: 'c1', addrs: ['tcp!10.0.0.1!564', 'unix!/run/c1'], host: 'here', load: 4 }, 400));
    expect(await next()).toBe('put cons c1 tcp!10.0.0.1!564 unix!/run/c1\n');
    expect((await c.list('chan/cons')).map((e) => e.name)).toEqual(['c1']);
    expect((await c.readFile('chan/cons/c1/addr')).toString()).toBe('unix!/run/c1\ntcp!10.0.0.1!564\n');
    expect((await c.readFile('chan/cons/c1/load')).toString()).toBe('4\n');
    expect((await c.readFile('services')).toString()).toBe('cons\n');
    expect(await next()).toBe('expire cons c1\n');
    expect(await c.list('chan')).toEqual([]);
    await store.delete('cons', 'c1');
    expect(await next()).toBe('delete cons c1\n');
    expect(eventLine({ kind: 'delete', service: 's', provider: 'p', at: 0 })).toBe('delete s p\n');
    await ev.clunk();
  } finally {
    c.close();
    await server.close({ timeoutMs: 0 });
    d.close();
    await store.close();
  }
});

import { Directory, MemoryStore, register, type Registration } from '@prose/directory';
import { ORDWR, OREAD } from '@prose/protocol';
import { Server, Tree, dir, file, silentLogger, textFile } from '@prose/server';
import type { Listener } from '@prose/transport';
import { Namespace, NamespaceError, type FailoverInfo } from './index.js';

/** A provider of service "blob": file `data` over a shared buffer, `who`, and a `slow` dir whose creates hang. */
async function provider(name: string, shared: { buf: Buffer }, store: MemoryStore) {
  const tree = new Tree(dir('/', [
    file('data', {
      read: (_h, off, n) => shared.buf.subarray(off, off + n),
      write: (_h, off, data) => {
        if (off + data.length > shared.buf.length) {
          const b = Buffer.alloc(off + data.length);
          shared.buf.copy(b);
          shared.buf = b;
        }
        data.copy(shared.buf, off);
      },
      length: () => shared.buf.length,
    }, { perm: 0o666 }),
    textFile('who', () => name),
    dir('slow', [], { perm: 0o777, create: () => new Promise(() => {}) }),
    dir(`only-${name}`),
  ]));
  const server = new Server(tree, { logger: silentLogger });
  const l: Listener = await server.listen('tcp!127.0.0.1!0');
  const reg: Registration = await register(store, { service: 'blob', provider: name, addrs: [l.addr], load: name === 'a' ? 0 : 1 }, { ttlMs: 3000 });
  return {
    addr: l.addr,
    kill: async () => {
      await reg.stop();
      await l.close();
      await server.close({ timeoutMs: 0 });
    },
    stop: async () => {
      await reg.stop().catch(() => {});
      await l.close().catch(() => {});
      await server.close({ timeoutMs: 0 });
    },
  };
}

describe('namespace', () => {
  let store: MemoryStore;
  let directory: Directory;
  const shared = { buf: Buffer.alloc(0) };
  let a: Awaited<ReturnType<typeof provider>>;
  let b: Awaited<ReturnType<typeof provider>>;
  beforeEach(async () => {
    store = new MemoryStore();
    directory = new Directory(store);
    await directory.ready();
    shared.buf = Buffer.alloc(0);
    a = await provider('a', shared, store);
    b = await provider('b', shared, store);
  });
  afterEach(async () => {
    await a.stop();
    await b.stop();
    directory.close();
    await store.close();
  });

  test('mount by name picks the least loaded provider; paths, stat, qid cache, bind, union, unmount', async () => {
    const ns = new Namespace({ directory });
    try {
      const s = await ns.mount('/n/blob', { service: 'blob' });
      expect(s.provider).toBe('a');
      expect((await ns.readFile('/n/blob/who')).toString()).toBe('a');
      expect(await ns.list('/n/blob')).toEqual(['data', 'only-a', 'slow', 'who']);
      const st = await ns.stat('/n/blob/only-a');
      expect(await ns.qid('/n/blob/only-a')).toEqual(st.qid);
      await expect(ns.stat('/n/blob/nothing')).rejects.toMatchObject({ errno: 2 });
      await expect(ns.stat('/elsewhere')).rejects.toMatchObject({ code: 'ENOTMOUNTED' });

      // By address, and a union: /u has a's tree, then b's after it.
      await ns.mount('/u', { addr: b.addr });
      ns.bind('/n/blob', '/u', 'after');
      expect(await ns.list('/u')).toEqual(['data', 'only-a', 'only-b', 'slow', 'who']);
      expect((await ns.readFile('/u/who')).toString()).toBe('b');
      expect((await ns.stat('/u/only-a')).name).toBe('only-a');
      ns.bind('/n/blob/only-a', '/x');
      expect((await ns.stat('/x')).name).toBe('only-a');
      await ns.unmount('/u');
      await expect(ns.stat('/u/only-b')).rejects.toMatchObject({ code: 'ENOTMOUNTED' });
      expect(Object.keys(ns.mounts())).toEqual(['/n/blob', '/x']);
    } finally {
      await ns.close();
    }
  });

  test('failover: open files follow, reads and writes at an offset are retried, acknowledged writes stay', async () => {
    const gaps: FailoverInfo[] = [];
    const ns = new Namespace({ directory, onFailover: (i) => gaps.push(i) });
    try {
      const s = await ns.mount('/n/blob', { service: 'blob' });
      const f = await ns.open('/n/blob/data', ORDWR);
      const acked: Array<[number, string]> = [];
      for (let i = 0; i < 200; i++) {
        if (i === 100) await a.kill();
        const chunk = `w${String(i).padStart(4, '0')}`;
        expect(await f.write(i * 5, Buffer.from(chunk))).toBe(5);
        acked.push([i * 5, chunk]);
        expect((await f.read(i * 5, 5)).toString()).toBe(chunk);
      }
      expect(s.provider).toBe('b');
      expect(gaps.length).toBe(1);
      expect(gaps[0]).toMatchObject({ from: 'a', to: 'b', reopened: 1 });
      const all = await ns.readFile('/n/blob/data');
      for (const [off, c] of acked) expect(all.subarray(off, off + 5).toString()).toBe(c);
      expect((await ns.readFile('/n/blob/who')).toString()).toBe('b');
      await f.close();
    } finally {
      await ns.close();
    }
  });

  test('a create in flight when the provider goes fails with "provider lost"; later requests go to the next provider', async () => {
    const ns = new Namespace({ directory });
    try {
      await ns.mount('/n/blob', { service: 'blob' });
      const creating = ns.create('/n/blob/slow/x', 0o644, ORDWR);
      await new Promise((r) => setTimeout(r, 100));
      await a.kill();
      const err = await creating.catch((e) => e);
      expect(err).toBeInstanceOf(NamespaceError);
      expect(err.code).toBe('EPROVIDERLOST');
      expect(err.message).toMatch(/^provider lost: blob \(a\) during create/);
      expect((await ns.readFile('/n/blob/who')).toString()).toBe('b');
      const f = await ns.open('/n/blob/who', OREAD);
      expect((await f.read(0, 10)).toString()).toBe('b');
      await f.close();
    } finally {
      await ns.close();
    }
  });
});

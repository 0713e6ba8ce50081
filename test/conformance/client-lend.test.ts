/**
 * The client over a socket that lends its receive memory (ConnectOptions.lendFrames): a
 * `readRef` reply is a view of pooled memory until released, and memory is reused
 * only once released; whatever the caller keeps (`read`, `readdir`, stat) is its own and never
 * written over, with or without lending.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { Client, type Fid } from '@prose/client';
import { L_O_RDONLY } from '@prose/protocol';
import { Server, Tree, dir as dirNode, file, silentLogger } from '@prose/server';

const pattern = (seed: number, n: number) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
};

describe.each(['tcp', 'unix'] as const)('client receive memory over %s', (transport) => {
  let server: Server<any>;
  let dir: string;
  let addr: string;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-lend-'));
    // `data` reads back a pattern of its offset, any size; `dir` holds a few hundred entries.
    const tree = new Tree(dirNode('/', [
      file('data', { read: (_h, off, count) => pattern(off & 0xff, count) }, { perm: 0o444 }),
      dirNode('many', Array.from({ length: 300 }, (_, i) => file(`entry-${i}`, { read: () => Buffer.alloc(0) }))),
    ]));
    server = new Server(tree, { logger: silentLogger });
    const l = await server.listen(transport === 'tcp' ? 'tcp!127.0.0.1!0' : `unix!${path.join(dir, 's')}`);
    addr = l.addr;
  });
  afterAll(async () => {
    await server.close({ timeoutMs: 200 });
    await fsp.rm(dir, { recursive: true, force: true });
  });

  async function open(opts: { lendFrames?: boolean } = {}): Promise<{ c: Client; f: Fid }> {
    const c = await Client.connect(addr, { version: '9P2000.L', lendFrames: true, ...opts });
    const root = await c.attach({ uname: 'root', nUname: 0 });
    const f = await root.walk('data');
    await f.lopen(L_O_RDONLY);
    return { c, f };
  }

  // Sizes on every receive path: small (copied out), in the slab, and above half a slab.
  const SIZES = [100, 4000, 60000, 200000, 1024 * 1024];

  test.each(SIZES)('readRef of %i bytes: pooled memory, reused only once released', async (size) => {
    const { c, f } = await open();
    try {
      const a = await f.readRef(1, size);
      expect(a.data.equals(pattern(1, size))).toBe(true);
      // Held: later replies land elsewhere and a's bytes stay put.
      const b = await f.readRef(2, size);
      expect(b.data.equals(pattern(2, size))).toBe(true);
      expect(a.data.equals(pattern(1, size))).toBe(true);
      a.release();
      b.release();
      b.release(); // twice: harmless
      if (size >= 4000) {
        // Released at once, the next replies come in the same memory again (the receive slab,
        // or for a frame a read left incomplete, one pooled staging buffer).
        const seen = new Set<ArrayBufferLike>();
        for (let i = 0; i < 8; i++) {
          const r = await f.readRef(10 + i, size);
          expect(r.data.equals(pattern(10 + i, size))).toBe(true);
          seen.add(r.data.buffer);
          r.release();
        }
        expect(seen.size).toBeLessThanOrEqual(2);
      }
    } finally {
      c.close();
    }
  });

  test.each(SIZES)('read of %i bytes: the caller keeps it, never written over by later replies', async (size) => {
    for (const lendFrames of [true, false]) {
      const { c, f } = await open({ lendFrames });
      try {
        const kept = [];
        for (let i = 0; i < 6; i++) kept.push(await f.read(i, size));
        // Interleaved with lent replies released at once, which reuse memory.
        for (let i = 0; i < 6; i++) (await f.readRef(50 + i, size)).release();
        kept.forEach((d, i) => expect(d.equals(pattern(i, size))).toBe(true));
        // With lending, a reply above half a receive slab that the caller keeps is a buffer of
        // its own, exactly its frame (read there, or copied out of a slab read whole).
        if (lendFrames && size >= 200000) for (const d of kept) expect(d.buffer.byteLength).toBeLessThanOrEqual(size + 11 + 8);
      } finally {
        c.close();
      }
    }
  });

  test('16 readRefs in flight, released out of order, each intact until its release', async () => {
    const { c, f } = await open();
    try {
      const size = 300000;
      const got = await Promise.all(Array.from({ length: 16 }, (_, i) => f.readRef(i, size)));
      got.forEach((r, i) => expect(r.data.equals(pattern(i, size))).toBe(true));
      for (const i of [3, 0, 15, 7]) got[i]!.release();
      const more = await Promise.all(Array.from({ length: 8 }, (_, i) => f.readRef(100 + i, size)));
      more.forEach((r, i) => expect(r.data.equals(pattern(100 + i, size))).toBe(true));
      got.forEach((r, i) => { if (![3, 0, 15, 7].includes(i)) expect(r.data.equals(pattern(i, size))).toBe(true); });
      for (const r of [...got, ...more]) r.release();
    } finally {
      c.close();
    }
  });

  test('directory listings and metadata replies are the caller\'s own with lending on', async () => {
    const { c } = await open();
    try {
      const root = await c.attach({ uname: 'root', nUname: 0 });
      const d = await root.walk('many');
      await d.lopen(L_O_RDONLY);
      const first = await d.readdir(0, 8192);
      const names = first.map((e) => e.name);
      // More replies through the same receive memory, then the first listing is unchanged.
      const f = await root.walk('data');
      await f.lopen(L_O_RDONLY);
      for (let i = 0; i < 20; i++) (await f.readRef(i, 8192)).release();
      expect(first.map((e) => e.name)).toEqual(names);
      expect(names.length).toBeGreaterThan(50);
      expect(names.filter((n) => n.startsWith('entry-')).length).toBe(names.length - names.filter((n) => n === '.' || n === '..').length);
    } finally {
      c.close();
    }
  });
});

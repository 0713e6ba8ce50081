/**
 * The conformance transcripts over the shared-memory transport, in each signalling mode:
 * between threads' rings in one process (`shmPair`, SharedArrayBuffer + Atomics) and through
 * the process path (`listenShm`/`dialShm`: control socket, sealed memfd, eventfd doorbells).
 * The same runner as transcripts.test.ts; only the Conn differs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import type { Conn } from '@prose/transport';
import { Client, type Fid } from '@prose/client';
import { L_O_RDWR } from '@prose/protocol';
import { Server, Tree, dir as dirNode, file, silentLogger } from '@prose/server';
import { dialShm, haveAddon, listenShm, shmPair, SHM_MODES, type ShmConn, type ShmMode } from '@prose/shm';
import { runOnFixture } from './fixture.js';
import { parseTranscript, stepsFor } from './transcript.js';

const dir = __dirname;
const files = readdirSync(dir).filter((f) => f.endsWith('.9p')).sort();
const kinds = haveAddon() ? (['thread', 'proc'] as const) : (['thread'] as const);

/**
 * The waiting variants a transcript runs over: every mode, and between processes also notify
 * with a bounded blocking wait on the dialer. Its server runs in this thread, so every such
 * wait times out and the reply comes through the event loop: the fallback path.
 */
type Variant = ShmMode | 'notify-block';
const variantsOf = (kind: 'thread' | 'proc'): Variant[] => (kind === 'proc' ? [...SHM_MODES, 'notify-block'] : [...SHM_MODES]);

async function connect(server: Server<any>, kind: 'thread' | 'proc', variant: Variant): Promise<{ conn: Conn; done: () => Promise<void> }> {
  const mode: ShmMode = variant === 'notify-block' ? 'notify' : variant;
  if (kind === 'thread') {
    const [a, b] = shmPair({ mode });
    server.serve(a);
    return { conn: b, done: () => server.close({ timeoutMs: 200 }) };
  }
  const addr = `shm!${join(os.tmpdir(), `prose-conf-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`)}`;
  const l = await listenShm(addr, (c) => server.serve(c));
  const conn = await dialShm(addr, { mode, blockUs: variant === 'notify-block' ? 1000 : 0 });
  return { conn, done: async () => { await l.close(); await server.close({ timeoutMs: 200 }); } };
}

describe.each(files)('%s', (file) => {
  const t = parseTranscript(file, readFileSync(join(dir, file), 'utf8'));
  const cases = t.dialects.flatMap((d) => kinds.flatMap((k) => variantsOf(k).map((m) => [d, `shm-${k}-${m}`, k, m] as const)));
  test.each(cases)('%s over %s', async (dialect, _name, kind, mode) => {
    await runOnFixture(file, stepsFor(t, dialect), (server) => connect(server, kind, mode));
  });
});

/**
 * Zero copy through the server and the client: Twrite data reaches the handler as a view of
 * the segment and its slot is given back when the request is over — answered, flushed, or
 * its session gone — never while the handler may still read it; Rread data reaches
 * `readRef` as a view, `read` as a copy; `writeInPlace` fills a slot that is sent as is.
 */
describe.each(kinds)('zero copy over shm-%s', (kind) => {
  const SIZE = 64 * 1024;
  const pattern = (seed: number, n = SIZE) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
    return b;
  };
  const isShared = (b: Buffer) => Object.prototype.toString.call(b.buffer) === '[object SharedArrayBuffer]';
  const tick = () => new Promise((r) => setTimeout(r, 5));
  async function until(what: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!what()) {
      if (Date.now() > end) throw new Error('condition not reached');
      await tick();
    }
  }

  interface Rig {
    client: Client;
    f: Fid;
    server: Server<any>;
    sconn: () => ShmConn;
    cconn: ShmConn;
    seen: Array<{ view: boolean; ok: boolean }>;
    gate: { wait?: Promise<void>; open?: () => void; reads: number };
    done(): Promise<void>;
  }

  /** A server whose `data` file checks each write against the pattern of its first byte (after an optional gate) and reads back a pattern. */
  async function rig(opts: { flushTimeoutMs?: number } = {}): Promise<Rig> {
    const seen: Rig['seen'] = [];
    const gate: Rig['gate'] = { reads: 0 };
    const tree = new Tree(dirNode('/', [file('data', {
      async write(_h, _off, data, req) {
        const view = isShared(data);
        if (gate.wait) {
          await Promise.race([gate.wait, new Promise((r) => req.signal.addEventListener('abort', r))]);
          if (gate.wait) await gate.wait; // a handler that keeps reading after its flush
        }
        seen.push({ view, ok: data.equals(pattern(seedOf(data), data.length)) });
        return data.length;
      },
      read: (_h, off, count) => {
        gate.reads++;
        return pattern(off & 0xff, count);
      },
    }, { perm: 0o666 }), file('inplace', {
      // reads into the transport's buffer: 1000+ fails after taking it; 2000+ waits for the gate
      async read(_h, off, count, req) {
        const b = req.readBuffer(count);
        if (off >= 2000) await gate.wait;
        if (off >= 1000 && off < 2000) throw new Error('injected failure');
        pattern(off & 0xff, count).copy(b);
        return b.subarray(0, count);
      },
    }, { perm: 0o666 })]));
    const server = new Server(tree, { logger: silentLogger, flushTimeoutMs: opts.flushTimeoutMs ?? 0 });
    let sc: ShmConn | undefined;
    let cconn: ShmConn;
    let close: () => Promise<void>;
    if (kind === 'thread') {
      const [a, b] = shmPair({ mode: 'notify' });
      sc = a;
      server.serve(a);
      cconn = b;
      close = async () => {};
    } else {
      const addr = `shm!${join(os.tmpdir(), `prose-zc-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`)}`;
      const l = await listenShm(addr, (c) => {
        sc = c;
        server.serve(c);
      });
      cconn = await dialShm(addr, { mode: 'notify' });
      close = () => l.close();
    }
    const client = await Client.connect(cconn, { version: '9P2000.L' });
    const root = await client.attach({ uname: 'root', nUname: 0 });
    const f = await root.walk('data');
    await f.lopen(L_O_RDWR);
    return {
      client, f, server, cconn, seen, gate, sconn: () => sc!,
      async done() {
        client.close();
        await close();
        await server.close({ timeoutMs: 200 });
      },
    };
  }
  /** Patterns start with their seed. */
  const seedOf = (b: Buffer) => b[0]!;

  test('Twrite data reaches the handler in place; every slot comes back', async () => {
    const r = await rig();
    try {
      r.gate.wait = new Promise((res) => (r.gate.open = res));
      const writes = [1, 2, 3, 4, 5, 6].map((seed) => r.f.write(0, pattern(seed)));
      await until(() => r.sconn().slotUse().held === 6);
      expect(r.seen).toHaveLength(0);
      r.gate.wait = undefined;
      r.gate.open!();
      expect(await Promise.all(writes)).toEqual(Array(6).fill(SIZE));
      expect(r.seen).toEqual(Array(6).fill({ view: true, ok: true }));
      expect(r.sconn().slotUse()).toEqual({ held: 0, lent: 0, reserved: 0 });
      await until(() => r.cconn.slotUse().lent === 0);
      expect(r.cconn.stats.txSlotCopy).toBeGreaterThanOrEqual(6);
    } finally {
      await r.done();
    }
  });

  test('a flushed Twrite keeps its slot until its handler is done, even past the flush timeout', async () => {
    const r = await rig({ flushTimeoutMs: 20 });
    try {
      r.gate.wait = new Promise((res) => (r.gate.open = res));
      const ac = new AbortController();
      const w = r.f.write(0, pattern(9), { signal: ac.signal });
      await until(() => r.sconn().slotUse().held === 1);
      ac.abort();
      await expect(w).rejects.toMatchObject({ code: 'EINTR' });
      // the Rflush went out (flush timeout) while the handler still holds the data
      expect(r.sconn().slotUse().held).toBe(1);
      r.gate.wait = undefined;
      r.gate.open!();
      await until(() => r.sconn().slotUse().held === 0);
      expect(r.seen).toEqual([{ view: true, ok: true }]);
    } finally {
      await r.done();
    }
  });

  test('the slots of requests pending when the session closes come back when their handlers end', async () => {
    const r = await rig();
    r.gate.wait = new Promise((res) => (r.gate.open = res));
    const writes = [3, 4].map((seed) => r.f.write(0, pattern(seed)).catch((e: Error) => e));
    await until(() => r.sconn().slotUse().held === 2);
    r.client.close();
    for (const e of await Promise.all(writes)) expect(e).toBeInstanceOf(Error);
    await until(() => r.sconn().closed);
    r.gate.wait = undefined;
    r.gate.open!();
    await until(() => r.sconn().slotUse().held === 0);
    expect(r.seen).toEqual([{ view: true, ok: true }, { view: true, ok: true }]);
    await r.done();
  });

  test('writeInPlace sends the slot it filled: no copy, the server reads it in place', async () => {
    const r = await rig();
    try {
      const before = r.cconn.stats.txSlotZeroCopy;
      const n = await r.f.writeInPlace(0, SIZE, (buf) => {
        expect(isShared(buf)).toBe(true);
        pattern(7).copy(buf);
      });
      expect(n).toBe(SIZE);
      expect(r.cconn.stats.txSlotZeroCopy).toBe(before + 1);
      expect(r.seen).toEqual([{ view: true, ok: true }]);
      // a fill that throws sends nothing and gives its slot back
      await expect(r.f.writeInPlace(0, 100, () => { throw new Error('no data'); })).rejects.toThrow('no data');
      // an aborted signal: nothing reserved, nothing sent
      await expect(r.f.writeInPlace(0, 100, () => {}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'EINTR' });
      expect(r.cconn.slotUse().reserved).toBe(0);
      await until(() => r.sconn().slotUse().held === 0 && r.cconn.slotUse().lent === 0);
      expect(r.seen).toHaveLength(1);
    } finally {
      await r.done();
    }
  });

  test('readRef hands out the reply in place until release; read copies', async () => {
    const r = await rig();
    try {
      const a = await r.f.readRef(5, SIZE);
      expect(isShared(a.data)).toBe(true);
      expect(a.data.equals(pattern(5))).toBe(true);
      expect(r.cconn.slotUse().held).toBe(1);
      a.release();
      a.release();
      expect(r.cconn.slotUse().held).toBe(0);
      const b = await r.f.read(6, SIZE);
      expect(isShared(b)).toBe(false);
      expect(b.equals(pattern(6))).toBe(true);
      expect(r.cconn.slotUse().held).toBe(0);
      // small replies come through the ring: a private Buffer, release does nothing
      const c = await r.f.readRef(7, 100);
      expect(isShared(c.data)).toBe(false);
      expect(c.data.equals(pattern(7, 100))).toBe(true);
      c.release();
    } finally {
      await r.done();
    }
  });

  test('Srv.read into req.readBuffer: the Rread leaves without a copy; failed and flushed reads give the buffer back', async () => {
    const r = await rig({ flushTimeoutMs: 20 });
    try {
      const root = await r.client.attach({ uname: 'root', nUname: 0 });
      const g = await root.walk('inplace');
      await g.lopen(L_O_RDWR);
      const before = r.sconn().stats.txSlotZeroCopy;
      const a = await g.readRef(5, SIZE);
      expect(r.sconn().stats.txSlotZeroCopy).toBe(before + 1);
      expect(isShared(a.data)).toBe(true);
      expect(a.data.equals(pattern(5))).toBe(true);
      a.release();
      expect((await g.read(6, 5000)).equals(pattern(6, 5000))).toBe(true);
      await expect(g.read(1000, SIZE)).rejects.toThrow();
      expect(r.sconn().slotUse().reserved).toBe(0);
      r.gate.wait = new Promise((res) => (r.gate.open = res));
      const ac = new AbortController();
      const p = g.read(2000, SIZE, { signal: ac.signal });
      await until(() => r.sconn().slotUse().reserved === 1);
      ac.abort();
      await expect(p).rejects.toMatchObject({ code: 'EINTR' });
      expect(r.sconn().slotUse().reserved).toBe(1); // the handler still writes into it
      r.gate.open!();
      await until(() => r.sconn().slotUse().reserved === 0);
      await until(() => r.cconn.slotUse().held === 0 && r.sconn().slotUse().lent === 0);
    } finally {
      await r.done();
    }
  });

  test('a client that never releases cannot stall the server: with every slot held, replies are copied', async () => {
    const r = await rig();
    try {
      const held = [];
      for (let i = 0; i < 16; i++) held.push(await r.f.readRef(i, SIZE));
      expect(r.cconn.slotUse().held).toBe(16);
      for (let i = 0; i < 4; i++) {
        const d = await r.f.readRef(100 + i, SIZE);
        expect(isShared(d.data)).toBe(false);
        expect(d.data.equals(pattern(100 + i))).toBe(true);
      }
      for (const h of held) h.release();
      expect(r.cconn.slotUse().held).toBe(0);
      const d = await r.f.readRef(1, SIZE);
      expect(isShared(d.data)).toBe(true);
      d.release();
    } finally {
      await r.done();
    }
  });
});

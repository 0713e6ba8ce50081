/**
 * Sockets carried by FdSocket (this process reads and writes the descriptor; fd-socket.ts):
 * what a peer can do to them — reset, half-close, vanish mid-write, read slowly, linger — and
 * what must hold: frames sent before an orderly close arrive, errors close the Conn with a
 * reason and the process goes on, a listener still waits for its connections, a worker that
 * alone loaded the addon can be terminated with connections open, and without the addon the
 * same calls fall back to Node's sockets.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { MsgType, encode } from '@prose/protocol';
import { havePosix } from '@prose/posix';
import type { Conn } from './conn.js';
import { dial, listen } from './net.js';
import { parseDialString } from './dialstring.js';
import type { SocketConn } from './socket-conn.js';

const frame = (tag: number, size: number) => encode({ type: MsgType.Twrite, tag, fid: 1, offset: tag, data: Buffer.alloc(size, tag & 0xff) }, '9P2000.L');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DIST = path.join(__dirname, '..', 'dist', 'index.js');

/** Runs `body` with `node -e` (DIST in its environment, plus `env`); its exit code or signal and output. */
function runNode(body: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', body], { timeout: 20_000, env: { ...process.env, DIST, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? err.signal ?? 'error') : 0, stdout, stderr }));
  });
}

/** A listener whose accepted Conn is handed back, and a raw Node socket connected to it. */
async function rawPeer(opts: { allowHalfOpen?: boolean } = {}) {
  let accepted!: (c: Conn) => void;
  const got = new Promise<Conn>((r) => (accepted = r));
  const l = await listen('tcp!127.0.0.1!0', (c) => accepted(c));
  const a = parseDialString(l.addr);
  if (a.net !== 'tcp') throw new Error('tcp expected');
  const sock = net.createConnection({ host: a.host, port: a.port, allowHalfOpen: opts.allowHalfOpen ?? false });
  await new Promise<void>((r, j) => { sock.once('connect', r); sock.once('error', j); });
  const conn = await got;
  let closed: { err?: Error } | undefined;
  const frames: Buffer[] = [];
  conn.start({ frame: (f) => frames.push(Buffer.from(f)), close: (err) => { closed = { err }; } });
  const until = async (pred: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out');
      await sleep(5);
    }
  };
  return { l, sock, conn, frames, until, get closed() { return closed; } };
}

const maybe = havePosix() ? describe : describe.skip;

maybe('FdSocket', () => {
  test('dialed and accepted sockets are carried by FdSocket by default, by Node on request', async () => {
    const accepted: SocketConn[] = [];
    const l = await listen('tcp!127.0.0.1!0', (c) => accepted.push(c as SocketConn));
    const lNode = await listen('tcp!127.0.0.1!0', (c) => accepted.push(c as SocketConn), { socketIo: 'node' });
    const a = (await dial(l.addr)) as SocketConn;
    const c = (await dial(lNode.addr, { socketIo: 'node' })) as SocketConn;
    try {
      while (accepted.length < 2) await sleep(5);
      expect([a.socketIo, c.socketIo, ...accepted.map((x) => x.socketIo)]).toEqual(['fd', 'node', 'fd', 'node']);
    } finally {
      for (const x of [a, c, ...accepted]) x.close();
      await l.close(); await lNode.close();
    }
  });

  test('a peer that resets the connection closes the Conn with ECONNRESET', async () => {
    const p = await rawPeer();
    try {
      p.sock.write(frame(1, 10));
      await p.until(() => p.frames.length === 1);
      p.sock.resetAndDestroy();
      await p.until(() => p.closed !== undefined);
      expect(p.closed!.err).toMatchObject({ code: 'ECONNRESET' });
      expect(p.conn.send(frame(2, 10))).toBe(false);
    } finally {
      p.conn.close(); await p.l.close();
    }
  });

  test('a peer that half-closes: every frame before its end arrives, then an orderly close', async () => {
    const p = await rawPeer();
    try {
      const all = Buffer.concat(Array.from({ length: 500 }, (_, i) => frame(i, (i * 97) % 3000)));
      p.sock.end(all);
      await p.until(() => p.closed !== undefined);
      expect(p.frames.length).toBe(500);
      expect(p.closed!.err).toBeUndefined();
    } finally {
      await p.l.close();
    }
  });

  test('sending to a peer that has gone closes the Conn with an error; the process goes on', async () => {
    const p = await rawPeer();
    try {
      p.sock.destroy();
      await sleep(50);
      // The first writes may still be taken by the kernel; the reset then fails the next ones.
      for (let i = 0; i < 50 && p.closed === undefined; i++) {
        p.conn.send(frame(i, 64 << 10));
        await sleep(10);
      }
      await p.until(() => p.closed !== undefined);
      expect(['EPIPE', 'ECONNRESET', undefined]).toContain((p.closed!.err as NodeJS.ErrnoException | undefined)?.code);
    } finally {
      p.conn.close(); await p.l.close();
    }
  });

  test('an empty part among a big frame\'s parts is skipped; the close that follows completes', async () => {
    const p = await rawPeer();
    try {
      let got = 0;
      let ended = false;
      p.sock.on('data', (d: Buffer) => { got += d.length; });
      p.sock.on('end', () => { ended = true; });
      const f = frame(1, 20000); // above the size sent as one copied buffer: parts go out as they are
      p.conn.send([f.subarray(0, 23), f.subarray(23), Buffer.alloc(0)]);
      p.conn.close();
      // At once, by the shutdown after the queue: not by the cut-off a second after close().
      await p.until(() => ended, 500);
      expect(got).toBe(f.length);
    } finally {
      p.sock.destroy(); await p.l.close();
    }
  });

  test('close() after a large queue: the slow reader still gets every byte, then the end', async () => {
    const p = await rawPeer();
    try {
      p.sock.pause();
      const parts = Array.from({ length: 64 }, (_, i) => frame(i, 128 << 10));
      const total = parts.reduce((n, f) => n + f.length, 0);
      for (const f of parts) p.conn.send(f);
      p.conn.close();
      let got = 0;
      let ended = false;
      p.sock.on('data', (d: Buffer) => { got += d.length; });
      p.sock.on('end', () => { ended = true; });
      await sleep(100);
      p.sock.resume();
      await p.until(() => ended);
      expect(got).toBe(total);
    } finally {
      p.sock.destroy(); await p.l.close();
    }
  });

  test('a queue thousands of writes long (the peer not reading) drains whole and in order', async () => {
    const accepted: Conn[] = [];
    const l = await listen('tcp!127.0.0.1!0', (c) => accepted.push(c));
    const a = await dial(l.addr);
    try {
      while (accepted.length < 1) await sleep(5);
      const b = accepted[0]!;
      b.pause();
      const got: number[] = [];
      b.start({ frame: (f) => got.push(f.readUInt16LE(5)), close: () => {} });
      a.start({ frame: () => {}, close: () => {} });
      // One write per tick: once the kernel's buffers are full, each is a queue entry of its own.
      const n = 4000;
      for (let i = 0; i < n; i++) {
        a.send(frame(i, 2000));
        if (i % 8 === 7) await new Promise((r) => setImmediate(r));
      }
      b.resume();
      const end = Date.now() + 10000;
      while (got.length < n && Date.now() < end) await sleep(5);
      expect(got.length).toBe(n);
      expect(got.every((tag, i) => tag === (i & 0xffff))).toBe(true);
    } finally {
      a.close(); for (const c of accepted) c.close(); await l.close();
    }
  });

  test('a peer that never closes its side after our close is let go within a second or so', async () => {
    const p = await rawPeer({ allowHalfOpen: true });
    try {
      let sawEnd = false;
      p.sock.on('end', () => { sawEnd = true; });
      p.sock.on('error', () => {});
      p.sock.resume();
      const t0 = Date.now();
      p.conn.close();
      await p.until(() => sawEnd, 2000);
      // The peer keeps its side open; the listener's close waits for the connection, which we
      // let go of a second after close().
      await p.l.close();
      expect(Date.now() - t0).toBeLessThan(2500);
    } finally {
      p.sock.destroy();
    }
  });

  test('a listener closes only once its fd-carried connections have', async () => {
    const p = await rawPeer();
    let done = false;
    const closing = p.l.close().then(() => { done = true; });
    await sleep(150);
    expect(done).toBe(false);
    p.conn.close();
    p.sock.destroy();
    await closing;
    expect(done).toBe(true);
  });

  test('a worker that alone loaded the addon is terminated with fd-carried connections open', async () => {
    // The main thread serves with plain net (no addon); the worker dials through @prose/transport.
    const body = `
      const { Worker } = require('node:worker_threads');
      const net = require('node:net');
      const srv = net.createServer((s) => s.on('data', () => {}));
      srv.listen(0, '127.0.0.1', () => {
        const port = srv.address().port;
        const w = new Worker(\`
          const t = require(\${JSON.stringify(process.env.DIST)});
          (async () => {
            const cs = [];
            for (let i = 0; i < 4; i++) { const c = await t.dial('tcp!127.0.0.1!${'$'}{port}'); c.start({ frame() {}, close() {} }); cs.push(c); }
            require('node:worker_threads').parentPort.postMessage(cs.map((c) => c.socketIo).join(','));
          })();
        \`.replace('\${port}', port), { eval: true });
        w.once('message', async (m) => {
          await w.terminate();
          setTimeout(() => { console.log('ok ' + m); process.exit(0); }, 200);
        });
      });`;
    const r = await runNode(body);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout.trim()).toBe('ok fd,fd,fd,fd');
  });
});

test('without the addon, dial and listen use Node\'s sockets and work the same', async () => {
  const body = `
    const t = require(process.env.DIST);
    (async () => {
      let got = 0;
      const l = await t.listen('tcp!127.0.0.1!0', (c) => c.start({ frame: (f) => c.send(f), close() {} }));
      const c = await t.dial(l.addr);
      await new Promise((res) => {
        c.start({ frame: () => { if (++got === 100) res(); }, close() {} });
        for (let i = 0; i < 100; i++) { const b = Buffer.alloc(100); b.writeUInt32LE(100, 0); c.send(b); }
      });
      console.log(c.socketIo + ' ' + got);
      c.close(); await l.close();
    })();`;
  const r = await runNode(body, { PROSE_POSIX_ADDON: '/nonexistent/prose_posix.node' });
  expect(r).toMatchObject({ code: 0 });
  expect(r.stdout.trim()).toBe('node 100');
});

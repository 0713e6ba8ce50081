/**
 * Volatile parts (volatile.ts) on a real TCP connection carried by FdSocket, with a real file
 * mapping (@prose/posix filemap.ts): what the kernel cannot take at once is copied before it
 * waits, so a file truncated (and unmapped) afterwards changes nothing the peer gets; a mapping
 * already cut short is sent with zeros where the file ended, and the stream goes on; a part
 * that cannot be copied closes the Conn rather than send what could not be read.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileMap, havePosix } from '@prose/posix';
import type { Conn } from './conn.js';
import { listen } from './net.js';
import { parseDialString } from './dialstring.js';
import { markVolatile } from './volatile.js';

const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + (i >> 10)) & 0xff;
  return b;
}

/** An accepted Conn (our end) and a raw Node socket (the peer), which starts paused. */
async function pair(socketIo?: 'node') {
  let accepted!: (c: Conn) => void;
  const got = new Promise<Conn>((r) => (accepted = r));
  const l = await listen('tcp!127.0.0.1!0', (c) => accepted(c), socketIo ? { socketIo } : {});
  const a = parseDialString(l.addr);
  if (a.net !== 'tcp') throw new Error('tcp expected');
  const sock = net.createConnection({ host: a.host, port: a.port });
  sock.pause();
  await new Promise<void>((r, j) => { sock.once('connect', r); sock.once('error', j); });
  const conn = await got;
  let closed: Error | undefined | null = null;
  conn.start({ frame: () => {}, close: (err) => { closed = err; } });
  const received: Buffer[] = [];
  sock.on('data', (d: Buffer) => received.push(d));
  const readAll = async (n: number) => {
    sock.resume();
    const end = Date.now() + 10_000;
    while (received.reduce((s, b) => s + b.length, 0) < n) {
      if (Date.now() > end) throw new Error('timed out');
      await sleep(5);
    }
    return Buffer.concat(received);
  };
  const done = async () => { sock.destroy(); conn.close(); await l.close(); };
  return { conn, sock, readAll, done, get closed() { return closed; } };
}

const maybe = havePosix() && fileMap() !== undefined ? describe : describe.skip;

maybe('volatile parts over FdSocket', () => {
  const fm = fileMap()!;
  let dir: string;
  let arena: Buffer;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-volatile-'));
    const a = fm.reserveArena(32 * MIB);
    if (typeof a === 'number') throw new Error(`reserveArena: ${a}`);
    arena = a;
    markVolatile(arena, (view) => {
      const r = fm.copyMapped(view, 0, view.length);
      return typeof r === 'number' ? undefined : r[0];
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** `data` in a file mapped at arena[0, size), and its descriptor. */
  function mapped(name: string, data: Buffer, size: number): number {
    const file = path.join(dir, name);
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r+');
    expect(fm.mapInto(arena, 0, fd, 0, size)).toBe(0);
    return fd;
  }

  test('only Conns whose socket this process writes take volatile parts', async () => {
    const ours = await pair();
    const node = await pair('node');
    try {
      expect(ours.conn.volatileParts).toBe(true);
      expect(node.conn.volatileParts).toBe(false);
    } finally {
      await ours.done();
      await node.done();
    }
  });

  test('what the kernel cannot take at once is copied before it waits: truncating and unmapping after changes nothing', async () => {
    const data = pattern(24 * MIB);
    const fd = mapped('big', data, 24 * MIB);
    const p = await pair();
    try {
      // The peer reads nothing yet: far more than the socket buffers hold stays with us.
      expect(p.conn.send([Buffer.from('head'), arena.subarray(0, 24 * MIB)])).toBe(false);
      await new Promise((r) => setImmediate(r)); // the flush has run
      fs.ftruncateSync(fd, 0);
      expect(fm.unmapFrom(arena, 0, 24 * MIB)).toBe(0);
      const got = await p.readAll(4 + 24 * MIB);
      expect(got.length).toBe(4 + 24 * MIB);
      expect(got.subarray(0, 4).toString()).toBe('head');
      expect(got.subarray(4).equals(data)).toBe(true);
      expect(p.closed).toBeNull();
    } finally {
      fs.closeSync(fd);
      await p.done();
    }
  });

  test('a volatile part that cannot be copied closes the Conn with EIO: no byte it could not read is sent', async () => {
    const p = await pair();
    try {
      const big = Buffer.alloc(24 * MIB, 7);
      markVolatile(big, () => undefined);
      p.conn.send([Buffer.from('head'), big]); // more than the socket takes while the peer does not read
      const end = Date.now() + 5000;
      while (p.closed === null && Date.now() < end) await sleep(5);
      expect(p.closed).toMatchObject({ code: 'EIO' });
    } finally {
      await p.done();
    }
  });

  test('a mapping of a file already cut short goes out with zeros where the file ended; the stream goes on', async () => {
    const data = pattern(4 * MIB);
    const fd = mapped('cut', data, 4 * MIB);
    const p = await pair();
    try {
      fs.ftruncateSync(fd, 100_000);
      p.conn.send([Buffer.from('A'), arena.subarray(0, 4 * MIB)]);
      p.conn.send(Buffer.from('B'));
      const got = await p.readAll(2 + 4 * MIB);
      expect(got.length).toBe(2 + 4 * MIB);
      expect(got[0]).toBe(0x41);
      expect(got.subarray(1, 100_001).equals(data.subarray(0, 100_000))).toBe(true);
      expect(got.subarray(100_001, 1 + 4 * MIB).equals(Buffer.alloc(4 * MIB - 100_000))).toBe(true);
      expect(got[1 + 4 * MIB]).toBe(0x42);
      expect(p.closed).toBeNull();
    } finally {
      fm.unmapFrom(arena, 0, 4 * MIB);
      fs.closeSync(fd);
      await p.done();
    }
  });
});

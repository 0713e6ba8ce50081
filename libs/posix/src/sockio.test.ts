/**
 * The socket calls of the addon (native/sockio.c) on a real loopback TCP connection: reads and
 * writes of our own, EAGAIN as an answer, vectored sends, shutdown, the pending error, and the
 * readiness watch that owns and closes its descriptor.
 */
import * as net from 'node:net';
import { closeSync, fstatSync } from 'node:fs';
import { havePosix } from './native.js';
import { sockIo, WATCH_READABLE, WATCH_WRITABLE, type SockIo } from './sockio.js';

const EAGAIN = -11;
const maybe = havePosix() ? describe : describe.skip;

/** A connected pair: a Node socket, and a duplicate of the other end's descriptor (ours). */
async function connected(io: SockIo): Promise<{ peer: net.Socket; fd: number; own: net.Socket; done: () => Promise<void> }> {
  const srv = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  const peer = net.createConnection({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port });
  await new Promise<void>((r) => peer.once('connect', r));
  const own = await accepted;
  const fd = io.dupFd((own as unknown as { _handle: { fd: number } })._handle.fd);
  expect(fd).toBeGreaterThan(2);
  return { peer, fd, own, done: async () => { peer.destroy(); own.destroy(); await new Promise<void>((r) => srv.close(() => r())); } };
}

maybe('socket calls', () => {
  const io = sockIo()!;

  test('read, write and writev move bytes; nothing to read is EAGAIN, not an error', async () => {
    const c = await connected(io);
    try {
      const buf = Buffer.alloc(64);
      expect(io.sockRead(c.fd, buf)).toBe(EAGAIN);
      const got: Buffer[] = [];
      c.peer.on('data', (d: Buffer) => got.push(d));
      expect(io.sockWrite(c.fd, Buffer.from('hello '))).toBe(6);
      expect(io.sockWritev(c.fd, [Buffer.from('x'), Buffer.from('to'), Buffer.from('world'), Buffer.from('!')], 1, 3)).toBe(8);
      while (Buffer.concat(got).length < 14) await new Promise((r) => setTimeout(r, 5));
      expect(Buffer.concat(got).toString()).toBe('hello toworld!');
      c.peer.write('ping');
      await new Promise((r) => setTimeout(r, 20));
      expect(io.sockRead(c.fd, buf)).toBe(4);
      expect(buf.subarray(0, 4).toString()).toBe('ping');
      expect(io.sockError(c.fd)).toBe(0);
      // shutdown: the peer sees the end; reading on is still allowed here.
      const ended = new Promise<void>((r) => c.peer.once('end', r));
      expect(io.sockShutdown(c.fd)).toBe(0);
      await ended;
    } finally {
      closeSync(c.fd);
      await c.done();
    }
  });

  test('a watch calls back when readable, not while set to nothing, and closes its descriptor', async () => {
    const c = await connected(io);
    try {
      const events: number[] = [];
      const w = io.watchFd(c.fd, WATCH_READABLE, (status, ev) => {
        expect(status).toBe(0);
        events.push(ev);
        io.sockRead(c.fd, Buffer.alloc(100));
      });
      expect(typeof w).not.toBe('number');
      const watch = w as Exclude<typeof w, number>;
      c.peer.write('a');
      await new Promise((r) => setTimeout(r, 30));
      expect(events).toEqual([WATCH_READABLE]);
      expect(io.watchSet(watch, 0)).toBe(0);
      c.peer.write('b');
      await new Promise((r) => setTimeout(r, 30));
      expect(events).toEqual([WATCH_READABLE]);
      // Writable at once (the send buffer is empty), readable for the pending 'b'.
      expect(io.watchSet(watch, WATCH_READABLE | WATCH_WRITABLE)).toBe(0);
      await new Promise((r) => setTimeout(r, 30));
      expect(events[1]).toBe(WATCH_READABLE | WATCH_WRITABLE);
      io.watchClose(watch);
      expect(() => fstatSync(c.fd)).toThrow(/EBADF/);
      expect(io.watchSet(watch, WATCH_READABLE)).toBeLessThan(0);
    } finally {
      await c.done();
    }
  });

  test('a reset shows as the pending error; bad arguments throw (TypeError)', async () => {
    const c = await connected(io);
    try {
      c.peer.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 30));
      expect(io.sockRead(c.fd, Buffer.alloc(8))).toBe(-104); // ECONNRESET
      expect(() => io.sockRead(c.fd, 'x' as never)).toThrow(/expected/);
      expect(() => io.sockWritev(c.fd, [1] as never, 0, 1)).toThrow(/expected/);
      expect(() => io.watchFd(c.fd, 1, undefined as never)).toThrow(/expected/);
      expect(() => io.watchSet({} as never, 1)).toThrow(/expected/);
    } finally {
      closeSync(c.fd);
      await c.done();
    }
  });
});

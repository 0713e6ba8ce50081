/**
 * Big sends in pieces (fd-socket.ts, SEND_PIECE): an FdSocket over a real loopback TCP
 * connection, its socket calls counted, writes a big buffer in writes of at most the piece
 * size with a yield after each full one, and the peer gets every byte in order; without pieces
 * it is one write; SEND_PIECE is on by default only for a process on one CPU.
 */
import * as net from 'node:net';
import { havePosix, sockIo, type SockIo } from '@prose/posix';
import { FdSocket, sendPiece } from './fd-socket.js';
import { SlabReader } from './slab-reader.js';

const KIB = 1024;

/** A connected pair: our end as an FdSocket over `io` (sends of more than `piece` in pieces), the peer a Node socket. */
async function pair(io: SockIo, piece: number) {
  const srv = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  const peer = net.createConnection({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port });
  await new Promise<void>((r) => peer.once('connect', r));
  const own = await accepted;
  const fd = io.dupFd((own as unknown as { _handle: { fd: number } })._handle.fd);
  const sock = new FdSocket(io, fd, new SlabReader().onread, own, piece);
  const got: Buffer[] = [];
  peer.on('data', (d: Buffer) => got.push(d));
  const received = async (n: number) => {
    const end = Date.now() + 10_000;
    while (got.reduce((s, b) => s + b.length, 0) < n) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
    return Buffer.concat(got);
  };
  const done = async () => { sock.destroy(); peer.destroy(); await new Promise<void>((r) => srv.close(() => r())); };
  return { sock, received, done };
}

/** The real socket calls, with every write's size and every yield counted. */
function counting(io: SockIo) {
  const writes: number[] = [];
  let yields = 0;
  const c: SockIo = {
    ...io,
    sockWrite: (fd, buf) => { const n = io.sockWrite(fd, buf); writes.push(buf.length); return n; },
    sockWritev: (fd, bufs, start, count) => {
      let len = 0;
      for (let i = start; i < start + count; i++) len += bufs[i]!.length;
      writes.push(len);
      return io.sockWritev(fd, bufs, start, count);
    },
    schedYield: () => { yields++; return io.schedYield(); },
  };
  return { io: c, writes, get yields() { return yields; } };
}

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

const maybe = havePosix() ? describe : describe.skip;

maybe('big sends in pieces', () => {
  test('a big send goes in writes of at most the piece, with a yield after each full one; the peer gets it all, in order', async () => {
    const k = counting(sockIo()!);
    const p = await pair(k.io, 64 * KIB);
    try {
      const head = Buffer.from('head');
      const data = pattern(1024 * KIB);
      p.sock.cork();
      p.sock.write(head);
      p.sock.write(data);
      p.sock.uncork();
      const got = await p.received(head.length + data.length);
      expect(got.equals(Buffer.concat([head, data]))).toBe(true);
      expect(Math.max(...k.writes)).toBeLessThanOrEqual(64 * KIB);
      expect(k.writes.reduce((s, n) => s + n, 0)).toBeGreaterThanOrEqual(head.length + data.length);
      expect(k.yields).toBeGreaterThanOrEqual(15);
      // A send that fits one piece is one write, no yield.
      const before = { writes: k.writes.length, yields: k.yields };
      p.sock.write(Buffer.alloc(1000, 1));
      await p.received(head.length + data.length + 1000);
      expect(k.writes.length - before.writes).toBe(1);
      expect(k.yields).toBe(before.yields);
    } finally {
      await p.done();
    }
  });

  test('without pieces, a big send is one write the kernel takes as it can', async () => {
    const k = counting(sockIo()!);
    const p = await pair(k.io, 0);
    try {
      const data = pattern(256 * KIB);
      p.sock.write(data);
      expect((await p.received(data.length)).equals(data)).toBe(true);
      expect(k.writes[0]).toBe(data.length);
      expect(k.yields).toBe(0);
    } finally {
      await p.done();
    }
  });

  test('on by default (256 KiB) for a process on one CPU only; PROSE_SEND_PIECE chooses, 0 for never', () => {
    expect(sendPiece(undefined, 1)).toBe(256 * KIB);
    expect(sendPiece(undefined, 2)).toBe(0);
    expect(sendPiece('', 1)).toBe(256 * KIB);
    expect(sendPiece('0', 1)).toBe(0);
    expect(sendPiece('131072', 8)).toBe(131072);
    expect(sendPiece('lots', 1)).toBe(256 * KIB); // not a number: ignored
    expect(sendPiece('-5', 2)).toBe(0);
  });
});

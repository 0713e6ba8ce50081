/**
 * The floor for Node sockets: a plain length-prefixed exchange with no 9P. The client sends a
 * frame shaped like a Twrite (23-byte header + payload); the server answers each with an
 * 11-byte frame shaped like an Rwrite. Run as a script it is the server child.
 */
import * as net from 'node:net';

const REQ_HDR = 23;
const REPLY = 11;

const batches: Buffer[] = [];

/** n reply frames back to back (cached per n). */
function replyBatch(n: number): Buffer {
  let b = batches[n];
  if (!b) {
    b = Buffer.alloc(REPLY * n);
    for (let i = 0; i < n; i++) b.writeUInt32LE(REPLY, i * REPLY);
    batches[n] = b;
  }
  return b;
}

/** Serves the raw exchange on 127.0.0.1 (port 0 = any); resolves with the bound port. */
export function rawEchoServer(port = 0): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    const hdr = Buffer.alloc(4);
    let hdrLen = 0;
    let remaining = 0;
    s.on('data', (chunk: Buffer) => {
      let replies = 0;
      let off = 0;
      while (off < chunk.length) {
        if (remaining === 0) {
          const take = Math.min(4 - hdrLen, chunk.length - off);
          chunk.copy(hdr, hdrLen, off, off + take);
          hdrLen += take;
          off += take;
          if (hdrLen < 4) break;
          hdrLen = 0;
          remaining = hdr.readUInt32LE(0) - 4;
          continue;
        }
        const take = Math.min(remaining, chunk.length - off);
        remaining -= take;
        off += take;
        if (remaining === 0) replies++;
      }
      if (replies > 0) s.write(replyBatch(replies));
    });
    s.on('error', () => s.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** A client of the raw exchange: `roundTrip()` sends one request and resolves on its reply. */
export class RawClient {
  private waiters: Array<() => void> = [];
  private got = 0;
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.got += d.length;
      while (this.got >= REPLY && this.waiters.length) { this.got -= REPLY; this.waiters.shift()!(); }
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ host: '127.0.0.1', port }, () => { s.setNoDelay(true); resolve(new RawClient(s)); });
      s.once('error', reject);
    });
  }

  /** Header and payload are written as two buffers, like the 9P client's vectored writes. */
  roundTrip(payload: Buffer): Promise<void> {
    const head = Buffer.alloc(REQ_HDR);
    head.writeUInt32LE(REQ_HDR + payload.length, 0);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.sock.cork();
      this.sock.write(head);
      this.sock.write(payload);
      this.sock.uncork();
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

if (require.main === module) {
  rawEchoServer().then((s) => {
    const a = s.address() as net.AddressInfo;
    process.stdout.write(`listening tcp!127.0.0.1!${a.port}\n`);
    process.on('SIGTERM', () => process.exit(0));
  });
}

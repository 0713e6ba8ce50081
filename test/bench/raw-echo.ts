/**
 * The floor for Node sockets: a plain length-prefixed exchange with no 9P. The client sends a
 * frame shaped like a Twrite (23-byte header + payload); the server answers each with an
 * 11-byte frame shaped like an Rwrite. Run as a script it is the server child.
 *
 * Both ends use the socket layer of our 9P client and server (@prose/transport's `dial` and
 * `listen`, the server with `lendFrames` as the null 9P server has it), so the socket work is
 * the same and only 9P is missing: the server gets a read event, answers every frame in it, and
 * the answers go out in one write; the client queues [header, payload] and its frames of one
 * tick go out in one write (one buffer when small, a writev of the parts when large), and reads
 * into the same receive slab. What prose-tcp costs above raw-tcp is then 9P itself: codec,
 * session, tags and fids, the client's mux.
 */
import { dial, listen, type Conn, type Listener } from '@prose/transport';
import { loopIdleMetric, pollLoopBeforeBlocking } from '@prose/shm';
import { PEER_BUSY_POLL_US } from './null-server.js';

const REQ_HDR = 23;
const REPLY = 11;

/** Serves the raw exchange on 127.0.0.1 (port 0 = any); resolves with the listener. */
export function rawEchoServer(port = 0): Promise<Listener> {
  return listen(`tcp!127.0.0.1!${port}`, (c: Conn) => {
    const answer = () => {
      const r = Buffer.allocUnsafe(REPLY);
      r.writeUInt32LE(REPLY, 0);
      c.send(r);
    };
    c.start({
      frame: answer,
      // Big frames are lent in place and given back once answered, as the null 9P server's are.
      frameRef: (_f, release) => {
        answer();
        release();
      },
      close: () => {},
    });
  }, { lendFrames: true });
}

/** A client of the raw exchange: `roundTrip()` sends one request and resolves on its reply. */
export class RawClient {
  private waiters: Array<() => void> = [];
  private head = 0;
  private constructor(private readonly conn: Conn) {
    conn.start({
      frame: () => {
        const w = this.waiters[this.head]!;
        this.waiters[this.head++] = undefined!;
        if (this.head === this.waiters.length) {
          this.waiters.length = 0;
          this.head = 0;
        }
        w();
      },
      close: () => {},
    });
  }

  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await dial(`tcp!127.0.0.1!${port}`));
  }

  /** Header and payload are queued as two parts, as the 9P client queues a Twrite. */
  roundTrip(payload: Buffer): Promise<void> {
    const head = Buffer.allocUnsafe(REQ_HDR);
    head.writeUInt32LE(REQ_HDR + payload.length, 0);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.conn.send([head, payload]);
    });
  }

  close(): void {
    this.conn.close();
  }
}

if (require.main === module) {
  pollLoopBeforeBlocking(PEER_BUSY_POLL_US); // as the null 9P server does
  loopIdleMetric(false);
  rawEchoServer().then((l) => {
    process.stdout.write(`listening ${l.addr}\n`);
    process.on('SIGTERM', () => process.exit(0));
  });
}

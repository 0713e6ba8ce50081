/**
 * Plan 9 dial(2)/announce(2)/listen(2) over a net gateway tree (services/net) through
 * @prose/client, for tests and benchmarks: clone, ctl messages, data streams.
 */
import type { CallOptions, Fid } from '@prose/client';
import { L_O_RDWR, ORDWR } from '@prose/protocol';

/** Opens `fid` for reading and writing in the session's dialect (Tlopen on .L, else Topen). */
export function openRdwr(fid: Fid, opts?: CallOptions): Promise<Fid> {
  return fid.client.dialect === '9P2000.L' ? fid.lopen(L_O_RDWR, opts) : fid.open(ORDWR, opts);
}

/** One conversation: its number, directory (`tcp/3`), open ctl and data. */
export class NetConn {
  private off = 0;

  constructor(
    readonly root: Fid,
    readonly proto: string,
    readonly n: number,
    readonly ctl: Fid,
    /** Undefined until `openData`. */
    public data: Fid | undefined,
  ) {}

  get dir(): string {
    return `${this.proto}/${this.n}`;
  }

  /** Opens N/data (ORDWR). */
  async openData(opts?: CallOptions): Promise<Fid> {
    if (this.data !== undefined) return this.data;
    const f = await this.root.walk(`${this.dir}/data`, opts);
    try {
      this.data = await openRdwr(f, opts);
    } catch (e) {
      await f.clunk().catch(() => {});
      throw e;
    }
    return this.data;
  }

  /** Writes one ctl message. */
  async ctlMsg(msg: string, opts?: CallOptions): Promise<void> {
    await this.ctl.write(0, Buffer.from(msg), opts);
  }

  /** Writes all of `b` to data (ioSize pieces, `window` in flight). */
  async write(b: Buffer | string, window = 4): Promise<void> {
    const d = await this.openData();
    await d.writeAll(typeof b === 'string' ? Buffer.from(b) : b, { window });
  }

  /** One data read (blocks until bytes arrive; empty at end of file). */
  async read(count?: number, opts?: CallOptions): Promise<Buffer> {
    const d = await this.openData();
    const b = await d.read(this.off, count ?? d.ioSize, opts);
    this.off += b.length;
    return b;
  }

  /**
   * Reads data until end of file (or `limit` bytes), `window` reads in flight. The gateway
   * answers reads of one conversation in arrival order, so pipelined reads keep the stream's order.
   */
  async readToEnd(opts: { limit?: number; window?: number; onChunk?: (b: Buffer) => void } = {}): Promise<Buffer[]> {
    const d = await this.openData();
    const window = opts.window ?? 1;
    const limit = opts.limit ?? Infinity;
    const size = d.ioSize;
    const out: Buffer[] = [];
    const flight: Array<Promise<Buffer>> = [];
    let got = 0;
    let eof = false;
    const issue = () => {
      const p = d.read(this.off, size);
      p.catch(() => {});
      flight.push(p);
    };
    while (!eof && got < limit) {
      while (flight.length < window) issue();
      const b = await flight.shift()!;
      if (b.length === 0) {
        eof = true;
        break;
      }
      this.off += b.length;
      got += b.length;
      if (opts.onChunk) opts.onChunk(b);
      else out.push(b);
    }
    // Reads still in flight past the end get end of file too (or the remaining bytes, when a
    // limit stopped us early: callers with a limit use window 1).
    await Promise.allSettled(flight);
    return out;
  }

  /** Clunks data and ctl: the conversation goes once no file of it is open. */
  async close(): Promise<void> {
    await this.data?.clunk().catch(() => {});
    await this.ctl.clunk().catch(() => {});
  }
}

/** Opens `<proto>/clone` and reads the new conversation's number from its ctl. */
export async function netClone(root: Fid, proto: string, opts?: CallOptions): Promise<NetConn> {
  const ctl = await root.walk(`${proto}/clone`, opts);
  try {
    await openRdwr(ctl, opts);
    const n = Number((await ctl.read(0, 64, opts)).toString());
    return new NetConn(root, proto, n, ctl, undefined);
  } catch (e) {
    await ctl.clunk().catch(() => {});
    throw e;
  }
}

/** dial(2): clone, `connect addr` (and `headers` first when asked), open data. */
export async function netDial(root: Fid, proto: string, addr: string, opts: CallOptions & { headers?: boolean } = {}): Promise<NetConn> {
  const c = await netClone(root, proto, opts);
  try {
    if (opts.headers) await c.ctlMsg('headers', opts);
    await c.ctlMsg(`connect ${addr}`, opts);
    await c.openData(opts);
    return c;
  } catch (e) {
    await c.close();
    throw e;
  }
}

/** announce(2): clone and `announce port` (or `*`). */
export async function netAnnounce(root: Fid, proto: string, port: string, opts: CallOptions & { headers?: boolean } = {}): Promise<NetConn> {
  const c = await netClone(root, proto, opts);
  try {
    if (opts.headers) await c.ctlMsg('headers', opts);
    await c.ctlMsg(`announce ${port}`, opts);
    return c;
  } catch (e) {
    await c.close();
    throw e;
  }
}

/** listen(2): opens N/listen of an announced conversation; resolves with the new call's conversation. */
export async function netListen(announced: NetConn, opts?: CallOptions): Promise<NetConn> {
  const f = await announced.root.walk(`${announced.dir}/listen`, opts);
  try {
    await openRdwr(f, opts);
    const n = Number((await f.read(0, 64, opts)).toString());
    return new NetConn(announced.root, announced.proto, n, f, undefined);
  } catch (e) {
    await f.clunk().catch(() => {});
    throw e;
  }
}

/** The text of a small file of the tree (local, remote, status, stats, err). */
export async function netText(root: Fid, path: string, opts?: CallOptions): Promise<string> {
  return (await root.readFile(path, opts)).toString('utf8');
}

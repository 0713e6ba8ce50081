/**
 * A small scriptable 9P server for the client's unit tests, written against the codec only
 * (libs/server is not a dependency of the client). It serves an in-memory tree in any dialect,
 * records every T-message, and lets a test hold requests, answer them in any order, or answer
 * them itself (for flush and error cases).
 */
import {
  DT_DIR, DT_REG, Errno, MAXWELEM, isDontTouchLength, MsgType, QTDIR, UNKNOWN_VERSION, chooseVersion, decode, encode, errnoText,
  packDir, packDirents, type Dialect, type Dir, type Dirent, type Fcall, type Qid, type TMessage,
} from '@prose/protocol';
import { connPair, type Conn } from '@prose/transport';

export interface Node {
  name: string;
  qid: Qid;
  children?: Map<string, Node>;
  data: Buffer;
  mode: number;
}

export interface FakeOptions {
  /** Dialects the server speaks (default all three). */
  dialects?: Dialect[];
  /** Largest msize it accepts (default 8 MiB + 24). */
  msize?: number;
  /** iounit in open replies (default 0). */
  iounit?: number;
  /**
   * 'now': answer each request as it arrives; 'reverse': collect requests arriving in the same
   * turn of the event loop and answer them in reverse order.
   */
  order?: 'now' | 'reverse';
  /** Answer a Tflush with an Rflush at once (default), or hold it for the test. */
  holdFlush?: boolean;
}

/** What a hook returns: a reply to send, 'hold' to keep the request for later, or nothing for the default. */
export type HookResult = Fcall | 'hold' | undefined;

let pathGen = 1n;

export function makeNode(name: string, dir: boolean, data: Buffer = Buffer.alloc(0)): Node {
  return {
    name,
    qid: { type: dir ? QTDIR : 0, version: 0, path: pathGen++ },
    children: dir ? new Map() : undefined,
    data,
    mode: dir ? 0o40755 : 0o100644,
  };
}

export class FakeServer {
  /** Every T-message received, in order. */
  readonly received: TMessage[] = [];
  /** Requests held by a hook, by tag. */
  readonly held = new Map<number, TMessage>();
  readonly root = makeNode('/', true);
  dialect: Dialect = '9P2000.L';
  msize = 0;
  /** Requests received and not yet answered, and the most there ever were. */
  outstanding = 0;
  maxOutstanding = 0;
  hook: ((t: TMessage) => HookResult) | undefined;
  private readonly fids = new Map<number, { node: Node; open: boolean; parent?: Node }>();
  private readonly batch: TMessage[] = [];
  private batchScheduled = false;

  constructor(
    readonly conn: Conn,
    readonly opts: FakeOptions = {},
  ) {
    conn.start({
      frame: (f) => this.onFrame(Buffer.from(f)),
      close: () => {},
    });
  }

  /** Adds a file or directory under `dir` (default the root). */
  add(path: string, data?: Buffer | string | null): Node {
    const names = path.split('/').filter(Boolean);
    let dir = this.root;
    for (const n of names.slice(0, -1)) {
      let next = dir.children!.get(n);
      if (!next) {
        next = makeNode(n, true);
        dir.children!.set(n, next);
      }
      dir = next;
    }
    const leaf = names[names.length - 1]!;
    const node = data === null ? makeNode(leaf, true) : makeNode(leaf, false, Buffer.from(data ?? ''));
    dir.children!.set(leaf, node);
    return node;
  }

  lookup(path: string): Node | undefined {
    let n: Node | undefined = this.root;
    for (const name of path.split('/').filter(Boolean)) n = n?.children?.get(name);
    return n;
  }

  /** Fids the client holds on the server now. */
  get fidCount(): number {
    return this.fids.size;
  }

  send(r: Fcall): void {
    this.outstanding--;
    this.conn.send(encode(r, this.dialect));
  }

  /** Answers a held request: with `r`, or by the default handling. */
  release(tag: number, r?: Fcall): void {
    const t = this.held.get(tag);
    if (!t) throw new Error(`no held request with tag ${tag}`);
    this.held.delete(tag);
    this.send(r ?? this.handle(t));
  }

  /** The error reply for an errno in the session's dialect. */
  error(tag: number, errno: number): Fcall {
    if (this.dialect === '9P2000.L') return { type: MsgType.Rlerror, tag, ecode: errno };
    if (this.dialect === '9P2000.u') return { type: MsgType.Rerror, tag, ename: errnoText(errno), errno };
    return { type: MsgType.Rerror, tag, ename: errnoText(errno) };
  }

  private onFrame(frame: Buffer): void {
    const t = decode(frame, this.dialect) as TMessage;
    this.received.push(t);
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    if (t.type === MsgType.Tversion) {
      this.send(this.version(t));
      return;
    }
    const hooked = this.hook?.(t);
    if (hooked === 'hold') {
      this.held.set(t.tag, t);
      return;
    }
    if (hooked) {
      this.send(hooked);
      return;
    }
    if (t.type === MsgType.Tflush) {
      if (this.opts.holdFlush) {
        this.held.set(t.tag, t);
        return;
      }
      this.send(this.handle(t));
      return;
    }
    if (this.opts.order === 'reverse') {
      this.batch.push(t);
      if (!this.batchScheduled) {
        this.batchScheduled = true;
        setImmediate(() => {
          this.batchScheduled = false;
          const all = this.batch.splice(0).reverse();
          for (const m of all) this.send(this.handle(m));
        });
      }
      return;
    }
    this.send(this.handle(t));
  }

  private version(t: Extract<TMessage, { type: MsgType.Tversion }>): Fcall {
    const choice = chooseVersion(t.version, this.opts.dialects ?? ['9P2000', '9P2000.u', '9P2000.L']);
    this.msize = Math.min(t.msize, this.opts.msize ?? 8 * 1024 * 1024 + 24);
    if (choice.dialect) this.dialect = choice.dialect;
    this.fids.clear();
    return { type: MsgType.Rversion, tag: t.tag, msize: this.msize, version: choice.dialect ? choice.version : UNKNOWN_VERSION };
  }

  /** The default handling of every request the tests need. */
  handle(t: TMessage): Fcall {
    const tag = t.tag;
    const E = (errno: number) => this.error(tag, errno);
    const fidOf = (n: number) => this.fids.get(n);
    switch (t.type) {
      case MsgType.Tflush:
        // flush(5): the flushed request, if still held, is discarded unanswered.
        if (this.held.delete(t.oldtag)) this.outstanding--;
        return { type: MsgType.Rflush, tag };
      case MsgType.Tattach:
        if (this.fids.has(t.fid)) return E(Errno.EBADF);
        this.fids.set(t.fid, { node: this.root, open: false });
        return { type: MsgType.Rattach, tag, qid: this.root.qid };
      case MsgType.Twalk: {
        const f = fidOf(t.fid);
        if (!f) return E(Errno.EBADF);
        if (t.wname.length > MAXWELEM) return E(Errno.E2BIG);
        if (t.newfid !== t.fid && this.fids.has(t.newfid)) return E(Errno.EBADF);
        let node = f.node;
        let parent = f.parent;
        const wqid: Qid[] = [];
        for (const name of t.wname) {
          const next = name === '..' ? (parent ?? node) : node.children?.get(name);
          if (!next) break;
          parent = node;
          node = next;
          wqid.push(node.qid);
        }
        if (t.wname.length > 0 && wqid.length === 0) return E(Errno.ENOENT);
        if (wqid.length === t.wname.length) this.fids.set(t.newfid, { node, open: false, parent });
        return { type: MsgType.Rwalk, tag, wqid };
      }
      case MsgType.Topen:
      case MsgType.Tlopen: {
        const f = fidOf(t.fid);
        if (!f) return E(Errno.EBADF);
        f.open = true;
        const trunc = t.type === MsgType.Topen ? (t.mode & 0x10) !== 0 : (t.flags & 0o1000) !== 0;
        if (trunc && !f.node.children) f.node.data = Buffer.alloc(0);
        return { type: t.type + 1, tag, qid: f.node.qid, iounit: this.opts.iounit ?? 0 } as Fcall;
      }
      case MsgType.Tcreate:
      case MsgType.Tlcreate: {
        const f = fidOf(t.fid);
        if (!f) return E(Errno.EBADF);
        if (!f.node.children) return E(Errno.ENOTDIR);
        const isDir = t.type === MsgType.Tcreate && (t.perm & 0x80000000) !== 0;
        const node = makeNode(t.name, isDir);
        f.node.children.set(t.name, node);
        f.parent = f.node;
        f.node = node;
        f.open = true;
        return { type: t.type + 1, tag, qid: node.qid, iounit: this.opts.iounit ?? 0 } as Fcall;
      }
      case MsgType.Tread: {
        const f = fidOf(t.fid);
        if (!f || !f.open) return E(Errno.EBADF);
        if (f.node.children) {
          if (this.dialect === '9P2000.L') return E(Errno.EISDIR);
          const all = Buffer.concat([...f.node.children.values()].map((n) => packDir(this.stat(n), this.dialect)));
          // Whole records only: find the largest prefix from offset that fits count.
          let end = t.offset;
          while (end < all.length) {
            const size = all.readUInt16LE(end) + 2;
            if (end + size - t.offset > t.count) break;
            end += size;
          }
          return { type: MsgType.Rread, tag, data: all.subarray(t.offset, end) };
        }
        return { type: MsgType.Rread, tag, data: f.node.data.subarray(t.offset, t.offset + t.count) };
      }
      case MsgType.Treaddir: {
        const f = fidOf(t.fid);
        if (!f || !f.open || !f.node.children) return E(Errno.EBADF);
        const ents: Dirent[] = [...f.node.children.values()].map((n, i) => ({
          qid: n.qid, offset: i + 1, type: n.children ? DT_DIR : DT_REG, name: n.name,
        }));
        return { type: MsgType.Rreaddir, tag, data: packDirents(ents.slice(t.offset), t.count).data };
      }
      case MsgType.Twrite: {
        const f = fidOf(t.fid);
        if (!f || !f.open) return E(Errno.EBADF);
        const n = f.node;
        const end = t.offset + t.data.length;
        if (n.data.length < end) {
          const grown = Buffer.alloc(end);
          n.data.copy(grown);
          n.data = grown;
        }
        t.data.copy(n.data, t.offset);
        return { type: MsgType.Rwrite, tag, count: t.data.length };
      }
      case MsgType.Tclunk:
        if (!this.fids.delete(t.fid)) return E(Errno.EBADF);
        return { type: MsgType.Rclunk, tag };
      case MsgType.Tremove: {
        const f = fidOf(t.fid);
        this.fids.delete(t.fid);
        if (!f) return E(Errno.EBADF);
        if (!f.parent) return E(Errno.EPERM);
        f.parent.children!.delete(f.node.name);
        return { type: MsgType.Rremove, tag };
      }
      case MsgType.Tstat: {
        const f = fidOf(t.fid);
        if (!f) return E(Errno.EBADF);
        return { type: MsgType.Rstat, tag, stat: this.stat(f.node) };
      }
      case MsgType.Twstat: {
        const f = fidOf(t.fid);
        if (!f) return E(Errno.EBADF);
        if (t.stat.name !== '' && f.parent) {
          f.parent.children!.delete(f.node.name);
          f.node.name = t.stat.name;
          f.parent.children!.set(t.stat.name, f.node);
        }
        if (!isDontTouchLength(t.stat.length)) f.node.data = f.node.data.subarray(0, t.stat.length);
        return { type: MsgType.Rwstat, tag };
      }
      case MsgType.Tmkdir: {
        const f = fidOf(t.dfid);
        if (!f || !f.node.children) return E(Errno.EBADF);
        if (f.node.children.has(t.name)) return E(Errno.EEXIST);
        const node = makeNode(t.name, true);
        f.node.children.set(t.name, node);
        return { type: MsgType.Rmkdir, tag, qid: node.qid };
      }
      default:
        return E(Errno.EOPNOTSUPP);
    }
  }

  private stat(n: Node): Dir {
    return {
      type: 0, dev: 0, qid: n.qid, mode: n.children ? 0x80000000 | 0o755 : 0o644, atime: 0, mtime: 0,
      length: n.children ? 0 : n.data.length, name: n.name, uid: 'glenda', gid: 'glenda', muid: 'glenda',
      ...(this.dialect === '9P2000' ? {} : { extension: '', nUid: 1000, nGid: 1000, nMuid: 1000 }),
    };
  }
}

/** A FakeServer on one end of a connPair; the other end is for the client. */
export function fakeServer(opts: FakeOptions = {}): { server: FakeServer; conn: Conn } {
  const [a, b] = connPair('test');
  return { server: new FakeServer(b, opts), conn: a };
}

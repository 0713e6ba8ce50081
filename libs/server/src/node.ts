/**
 * Nodes of a synthetic file tree: directories (static children and children generated on walk
 * and read) and files with callbacks. A node's qid path is given when it joins a Tree and never
 * changes; QTDIR comes from the mode; `touch()` bumps the qid version and mtime. Stat records,
 * .L attributes and directory listings are derived from the nodes.
 */
import { DMDIR, Ename, Errno, NONUNAME, NinepError, type Dir, type Qid } from '@prose/protocol';
import type { Fid } from './fid.js';
import type { Req } from './req.js';
import type { Awaitable } from './srv.js';

/** Owner, group and permissions of a node. */
export interface NodeOptions {
  /** Permission bits (0777) plus DM* bits such as DMAPPEND, DMEXCL, DMTMP (DMDIR is implied). */
  perm?: number;
  /** Default "prose". */
  uid?: string;
  /** Default: the uid. */
  gid?: string;
  /** .u numeric ids (also .L getattr's uid/gid). Default NONUNAME (reported as 0 to .L). */
  nUid?: number;
  nGid?: number;
}

/** Allocates qid paths for one tree. */
export class QidPaths {
  private next = 0n;
  take(): bigint {
    return this.next++;
  }
}

const UNASSIGNED = -1n;

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Anything in a tree. */
export abstract class Node {
  name: string;
  /** The directory holding it; undefined for a root or a removed node. */
  parent: DirNode | undefined = undefined;
  /** Type (from the mode), version (see touch), path (unique in the tree). */
  readonly qid: Qid;
  /** DM* bits and permissions. */
  mode: number;
  uid: string;
  gid: string;
  muid: string;
  nUid: number;
  nGid: number;
  atime: number;
  mtime: number;
  /** The clone instance this node belongs to (see CloneDir), if any. */
  instance: { ref(): void; unref(): Awaitable<void> } | undefined = undefined;
  /** @internal */
  paths: QidPaths | undefined = undefined;

  protected constructor(name: string, mode: number, opts: NodeOptions) {
    this.name = name;
    this.mode = mode >>> 0;
    this.qid = { type: (this.mode >>> 24) & 0xff, version: 0, path: UNASSIGNED };
    this.uid = opts.uid ?? 'prose';
    this.gid = opts.gid ?? this.uid;
    this.muid = this.uid;
    this.nUid = opts.nUid ?? NONUNAME;
    this.nGid = opts.nGid ?? NONUNAME;
    this.atime = this.mtime = now();
  }

  abstract readonly isDir: boolean;

  /** The length in the stat record (0 unless the node says otherwise). */
  length(): number {
    return 0;
  }

  /** The stat(5) record of the node. */
  stat(): Dir {
    return {
      type: 0, dev: 0, qid: this.qid, mode: this.mode, atime: this.atime, mtime: this.mtime,
      length: this.length(), name: this.name, uid: this.uid, gid: this.gid, muid: this.muid,
      extension: '', nUid: this.nUid, nGid: this.nGid, nMuid: NONUNAME,
    };
  }

  /** Marks a change of content: qid.version + 1, mtime now, muid the writer. */
  touch(muid?: string): void {
    this.qid.version = (this.qid.version + 1) >>> 0;
    this.mtime = now();
    if (muid !== undefined) this.muid = muid;
  }

  /** Sets the mode, keeping the qid type in step (DMDIR never changes). */
  setMode(mode: number): void {
    this.mode = ((mode & ~DMDIR) | (this.mode & DMDIR)) >>> 0;
    this.qid.type = (this.mode >>> 24) & 0xff;
  }

  /** The path from the root, for messages and logs. */
  get path(): string {
    const parts: string[] = [];
    for (let n: Node | undefined = this; n?.parent !== undefined; n = n.parent) parts.unshift(n.name);
    return '/' + parts.join('/');
  }

  /** @internal Gives this node (and its static descendants) qid paths from `paths`. */
  join(paths: QidPaths): void {
    this.paths = paths;
    if (this.qid.path === UNASSIGNED) this.qid.path = paths.take();
  }
}

/** What a directory's dynamic children come from. */
export interface DirOptions extends NodeOptions {
  /**
   * Children generated on read (after the static ones). Return the same Node objects for the
   * same entities (see `dynamicDir`) so that their qids stay the same.
   */
  list?(dir: DirNode, h: Handle, req: Req): Awaitable<Iterable<Node>>;
  /** A generated child by name, for walks. Absent: searched in `list`. */
  lookup?(dir: DirNode, name: string, h: Handle, req: Req): Awaitable<Node | undefined>;
  /**
   * Tcreate/Tlcreate/Tmkdir in this directory: make the node (a DirNode when perm has DMDIR).
   * The tree sets its mode, owner (the creator) and group (the directory's), adds it and opens
   * it. Absent: "create prohibited".
   */
  create?(dir: DirNode, name: string, perm: number, mode: number, h: Handle, req: Req): Awaitable<Node>;
}

/** A directory: static children in a map, plus generated ones (DirOptions.list/lookup). */
export class DirNode extends Node {
  readonly isDir = true;
  readonly opts: DirOptions;
  private readonly kids = new Map<string, Node>();

  /** A directory with static `children`; default permissions 0555. */
  constructor(name: string, children: readonly Node[] = [], opts: DirOptions = {}) {
    super(name, DMDIR | (opts.perm ?? 0o555), opts);
    this.opts = opts;
    for (const c of children) this.add(c);
  }

  /**
   * Adds a static child; throws "file already exists" when the name is taken. Once the
   * directory is in a tree, its qid version changes with its contents.
   */
  add<N extends Node>(node: N): N {
    if (this.kids.has(node.name)) throw new NinepError(Ename.exists, Errno.EEXIST);
    this.kids.set(node.name, node);
    this.adopt(node);
    if (this.paths !== undefined) this.touch();
    return node;
  }

  /** Detaches a static child; returns it, or undefined. */
  remove(name: string): Node | undefined {
    const n = this.kids.get(name);
    if (n === undefined) return undefined;
    this.kids.delete(name);
    n.parent = undefined;
    this.touch();
    return n;
  }

  /** Renames a static child (no check of permissions). Throws when the new name is taken. */
  rename(node: Node, name: string): void {
    if (this.kids.get(node.name) !== node) throw new NinepError(Ename.notfound, Errno.ENOENT);
    if (this.kids.has(name)) throw new NinepError(Ename.exists, Errno.EEXIST);
    this.kids.delete(node.name);
    node.name = name;
    this.kids.set(name, node);
    this.touch();
  }

  /** A static child by name. */
  child(name: string): Node | undefined {
    return this.kids.get(name);
  }

  /** True when `node` is a static child (not a generated one). */
  holds(node: Node): boolean {
    return this.kids.get(node.name) === node;
  }

  /** The static children. */
  get children(): IterableIterator<Node> {
    return this.kids.values();
  }

  /** Number of static children. */
  get size(): number {
    return this.kids.size;
  }

  /** A child by name: static first, then generated. */
  lookup(name: string, h: Handle, req: Req): Awaitable<Node | undefined> {
    const n = this.kids.get(name);
    if (n !== undefined || (this.opts.list === undefined && this.opts.lookup === undefined)) return n;
    if (this.opts.lookup !== undefined) return this.adoptMaybe(this.opts.lookup(this, name, h, req));
    const all = this.opts.list!(this, h, req);
    const find = (xs: Iterable<Node>) => {
      for (const x of xs) if (x.name === name) return this.adopt(x);
      return undefined;
    };
    return isPromiseLike(all) ? Promise.resolve(all).then(find) : find(all);
  }

  /** Every child: the static ones, then the generated ones. */
  list(h: Handle, req: Req): Awaitable<Node[]> {
    const out = [...this.kids.values()];
    if (this.opts.list === undefined) return out;
    const more = this.opts.list(this, h, req);
    const merge = (xs: Iterable<Node>) => {
      for (const x of xs) out.push(this.adopt(x));
      return out;
    };
    return isPromiseLike(more) ? Promise.resolve(more).then(merge) : merge(more);
  }

  override join(paths: QidPaths): void {
    super.join(paths);
    for (const c of this.kids.values()) c.join(paths);
  }

  private adopt<N extends Node>(node: N): N {
    node.parent = this;
    if (this.paths !== undefined && node.paths !== this.paths) node.join(this.paths);
    return node;
  }

  private adoptMaybe(v: Awaitable<Node | undefined>): Awaitable<Node | undefined> {
    if (isPromiseLike(v)) return Promise.resolve(v).then((n) => (n === undefined ? n : this.adopt(n)));
    return v === undefined ? v : this.adopt(v);
  }
}

/** The callbacks of a synthetic file. All optional; `h` is the open fid's handle. */
export interface FileOps<S = any> {
  /**
   * Opening (checked: mode allowed by the permissions). Set `h.state` for per-open state.
   * Return another node to make the fid refer to it instead (a clone file returns the new
   * instance's ctl).
   */
  open?(h: Handle<S>, mode: number, req: Req): Awaitable<void | Node>;
  /** The bytes at [offset, offset+count): a Buffer (not copied) or a string. May block; honour req.signal. */
  read?(h: Handle<S>, offset: number, count: number, req: Req): Awaitable<Buffer | string>;
  /** The whole content, sliced by offset and count for each read (lib9p readstr/readbuf). */
  content?(h: Handle<S>, req: Req): Awaitable<Buffer | string>;
  /** Write `data` (a view of the request: copy what you keep) at offset; return the count (void = all). */
  write?(h: Handle<S>, offset: number, data: Buffer, req: Req): Awaitable<number | void>;
  /** Set the length (OTRUNC, wstat, setattr). Absent: only "no change" is accepted. */
  truncate?(h: Handle<S>, length: number, req: Req): Awaitable<void>;
  /** The fid is closed (clunk, remove, session end): release `h.state`. */
  close?(h: Handle<S>): Awaitable<void>;
  /** Before Tremove detaches the file (permission already checked): throw to refuse. */
  remove?(h: Handle<S>, req: Req): Awaitable<void>;
  /** The length in stat (default 0, as for devices). */
  length?(): number;
}

/** A file whose behaviour is its FileOps callbacks; S is the type of its per-open state. */
export class FileNode<S = any> extends Node {
  readonly isDir = false;
  readonly ops: FileOps<S>;

  /**
   * A file with callbacks. Default permissions: 0444 with read/content, 0222 with write, both
   * with both (0444 when none).
   */
  constructor(name: string, ops: FileOps<S>, opts: NodeOptions = {}) {
    const r = ops.read !== undefined || ops.content !== undefined;
    const w = ops.write !== undefined;
    super(name, opts.perm ?? ((r || !w ? 0o444 : 0) | (w ? 0o222 : 0)), opts);
    this.ops = ops;
  }

  override length(): number {
    return this.ops.length !== undefined ? this.ops.length() : 0;
  }
}

/** The tree's per-fid state (the Fid's aux): the node it refers to and per-open state. */
export class Handle<S = any> {
  /** The node the fid refers to. */
  node: Node;
  /** Per-open state: set by `FileOps.open`, released in `FileOps.close`. */
  state: S | undefined = undefined;
  /** The open mode, once open. */
  mode: number | undefined = undefined;
  readonly fid: Fid<Handle>;
  /** @internal The directory listing being read (taken at offset 0). */
  listing: Node[] | undefined = undefined;

  constructor(node: Node, fid: Fid<Handle>) {
    this.node = node;
    this.fid = fid;
  }

  /** The user the fid belongs to. */
  get uname(): string {
    return this.fid.uname;
  }

  get isOpen(): boolean {
    return this.mode !== undefined;
  }
}

function isPromiseLike<T>(v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

// ---- constructors, for trees written as data ------------------------------------------

/** A directory: `dir('net', [file(...), dir(...)])`. */
export function dir(name: string, children: readonly Node[] = [], opts: DirOptions = {}): DirNode {
  return new DirNode(name, children, opts);
}

/** A file with callbacks: `file('time', { content: () => String(Date.now()) })`. */
export function file<S = any>(name: string, ops: FileOps<S>, opts: NodeOptions = {}): FileNode<S> {
  return new FileNode<S>(name, ops, opts);
}

/** A read-only file whose content is a string or Buffer made for each read. */
export function textFile(name: string, content: () => string | Buffer, opts: NodeOptions = {}): FileNode {
  return new FileNode(name, { content: () => content() }, opts);
}

/**
 * A directory of generated children that keep their qids: `keys()` names the children now;
 * `make(key)` builds a node the first time a key is seen; nodes of keys that disappear are dropped.
 */
export function dynamicDir(
  name: string,
  keys: () => Iterable<string>,
  make: (key: string) => Node,
  opts: NodeOptions = {},
): DirNode {
  const cache = new Map<string, Node>();
  const current = (): Node[] => {
    const seen = new Set<string>();
    const out: Node[] = [];
    for (const k of keys()) {
      seen.add(k);
      let n = cache.get(k);
      if (n === undefined) {
        n = make(k);
        cache.set(k, n);
      }
      out.push(n);
    }
    for (const k of cache.keys()) if (!seen.has(k)) cache.delete(k);
    return out;
  };
  return new DirNode(name, [], {
    ...opts,
    list: () => current(),
    lookup: (_d, key) => current().find((n) => n.name === key),
  });
}

/**
 * A Srv over a tree of nodes (lib9p's File trees, Inferno's Navigator): walk, stat, directory
 * listings, open/read/write/close, create, remove and wstat come from the nodes, for all three
 * dialects (the framework maps .L onto these). Subclass to add `auth` or to override a callback.
 */
import {
  DMAPPEND, DMDIR, Ename, Errno, L_O_APPEND, NinepError, OTRUNC, isDontTouchLength, type Dir, type Qid,
} from '@prose/protocol';
import type { Fid } from './fid.js';
import { DirNode, FileNode, Handle, Node, QidPaths } from './node.js';
import { AEXEC, AWRITE, hasPerm } from './perm.js';
import { readBuf, readStr } from './read-helpers.js';
import { isThenable } from './reply.js';
import type { Req } from './req.js';
import type { Awaitable, Srv } from './srv.js';

// Read once, for the per-write append check: each use of a package's named import reads a
// getter on its exports object (compiled to CommonJS).
const APPEND_ONLY = DMAPPEND;
const OPEN_APPEND = L_O_APPEND;

/** Extra roots and the permission policy of a Tree. */
export interface TreeOptions {
  /** More trees, chosen by the Tattach aname ("" is the main root). */
  anames?: Record<string, DirNode>;
  /** Leave permission checks to the framework (default true); see Srv.checkPerm. */
  checkPerm?: boolean;
}

function toBuffer(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function perm(): NinepError {
  return new NinepError(Ename.perm, Errno.EACCES);
}

/**
 * The Srv of a synthetic file tree: every callback works on the node in `fid.aux.node` (a
 * Handle). Permissions follow the nodes' modes (walk needs x on directories; remove and
 * rename need w on the parent). Nodes get their qid paths when the Tree is made or when added.
 */
export class Tree implements Srv<Handle> {
  readonly root: DirNode;
  readonly checkPerm: boolean;
  private readonly roots = new Map<string, DirNode>();

  /** A server for the tree under `root` (named "/" by convention). Gives every node its qid path. */
  constructor(root: DirNode, opts: TreeOptions = {}) {
    this.root = root;
    this.checkPerm = opts.checkPerm ?? true;
    const paths = new QidPaths();
    root.join(paths);
    this.roots.set('', root);
    for (const [aname, r] of Object.entries(opts.anames ?? {})) {
      r.join(paths);
      this.roots.set(aname, r);
    }
  }

  attach(fid: Fid<Handle>, _afid: Fid<Handle> | undefined, req: Req): Qid {
    const root = this.roots.get((req.ifcall as { aname: string }).aname);
    if (root === undefined) throw new NinepError(Ename.badattach, Errno.ENOENT);
    fid.aux = new Handle(root, fid);
    return root.qid;
  }

  clone(fid: Fid<Handle>, newfid: Fid<Handle>): void {
    newfid.aux = new Handle(fid.aux.node, newfid);
  }

  walk1(fid: Fid<Handle>, name: string, req: Req): Awaitable<Qid | NinepError> {
    const h = fid.aux;
    const d = h.node as DirNode;
    if (!hasPerm(d, fid.uname, AEXEC)) throw perm();
    if (name === '..') {
      h.node = d.parent ?? d;
      return h.node.qid;
    }
    const v = d.lookup(name, h, req);
    if (isThenable<Node | undefined>(v)) return Promise.resolve(v).then((n) => this.step(h, n));
    return this.step(h, v);
  }

  private step(h: Handle, n: Node | undefined): Qid | NinepError {
    if (n === undefined) return new NinepError(Ename.notfound, Errno.ENOENT);
    h.node = n;
    return n.qid;
  }

  async open(fid: Fid<Handle>, mode: number, req: Req): Promise<Qid> {
    const h = fid.aux;
    let node = h.node;
    if (node instanceof FileNode && node.ops.open !== undefined) {
      const to = await node.ops.open(h, mode, req);
      if (to instanceof Node && to !== node) {
        h.node = node = to;
        if (node instanceof FileNode && node.ops.open !== undefined) await node.ops.open(h, mode, req);
      }
    }
    if (mode & OTRUNC && node instanceof FileNode && node.ops.truncate !== undefined) await node.ops.truncate(h, 0, req);
    this.opened(h, mode);
    return node.qid;
  }

  private opened(h: Handle, mode: number): void {
    h.mode = mode;
    h.listing = undefined;
    h.node.instance?.ref();
  }

  async create(fid: Fid<Handle>, name: string, permBits: number, mode: number, _ext: string, req: Req): Promise<Qid> {
    const h = fid.aux;
    const d = h.node as DirNode;
    const make = d.opts.create;
    if (make === undefined) throw new NinepError(Ename.nocreate, Errno.EPERM);
    if ((await d.lookup(name, h, req)) !== undefined) throw new NinepError(Ename.exists, Errno.EEXIST);
    const node = await make(d, name, permBits, mode, h, req);
    if (node.isDir !== ((permBits & DMDIR) !== 0)) throw new NinepError('create made the wrong kind of file', Errno.EIO);
    node.name = name;
    node.setMode(permBits);
    node.uid = node.muid = fid.uname;
    node.gid = d.gid;
    d.add(node);
    d.muid = fid.uname;
    h.node = node;
    if (node instanceof FileNode && node.ops.open !== undefined) await node.ops.open(h, mode, req);
    this.opened(h, mode);
    return node.qid;
  }

  read(fid: Fid<Handle>, offset: number, count: number, req: Req): Awaitable<Buffer> {
    const h = fid.aux;
    const ops = (h.node as FileNode).ops;
    if (ops.read !== undefined) {
      const v = ops.read(h, offset, count, req);
      return isThenable<Buffer | string>(v) ? Promise.resolve(v).then(toBuffer) : toBuffer(v);
    }
    if (ops.content !== undefined) {
      const v = ops.content(h, req);
      const cut = (c: Buffer | string) => (typeof c === 'string' ? readStr(offset, count, c) : readBuf(offset, count, c));
      return isThenable<Buffer | string>(v) ? Promise.resolve(v).then(cut) : cut(v);
    }
    throw new NinepError(Ename.noread, Errno.EACCES);
  }

  write(fid: Fid<Handle>, offset: number, data: Buffer, req: Req): Awaitable<number | void> {
    const h = fid.aux;
    const node = h.node as FileNode;
    const ops = node.ops;
    if (ops.write === undefined) throw new NinepError(Ename.nowrite, Errno.EACCES);
    // stat(5) DMAPPEND ("append only") and .L O_APPEND: writes go to the end, whatever the offset.
    const append = node.mode & APPEND_ONLY || (fid.lflags !== undefined && fid.lflags & OPEN_APPEND);
    return ops.write(h, append ? node.length() : offset, data, req);
  }

  async remove(fid: Fid<Handle>, req: Req): Promise<void> {
    const h = fid.aux;
    const node = h.node;
    const parent = node.parent;
    if (parent === undefined || !parent.holds(node)) throw new NinepError(Ename.noremove, Errno.EPERM);
    if (!hasPerm(parent, fid.uname, AWRITE)) throw perm();
    if (node instanceof DirNode && (node.size > 0 || node.opts.list !== undefined)) {
      if (node.size > 0) throw new NinepError(Ename.notempty, Errno.ENOTEMPTY);
      throw new NinepError(Ename.noremove, Errno.EPERM);
    }
    if (node instanceof FileNode && node.ops.remove !== undefined) await node.ops.remove(h, req);
    parent.remove(node.name);
  }

  stat(fid: Fid<Handle>): Dir {
    return fid.aux.node.stat();
  }

  /**
   * Generic wstat (all or nothing): rename within the parent (write permission there; no
   * clash), mode and gid by the owner, length through FileOps.truncate (write permission),
   * mtime/atime by the owner or a writer. Changing the owner is refused.
   */
  async wstat(fid: Fid<Handle>, d: Dir, req: Req): Promise<void> {
    const h = fid.aux;
    const node = h.node;
    const uname = fid.uname;
    const owner = uname === node.uid;
    const rename = d.name !== '' && d.name !== node.name;
    const parent = node.parent;
    if (rename) {
      if (parent === undefined || !parent.holds(node)) throw perm();
      if (!hasPerm(parent, uname, AWRITE)) throw perm();
      if ((await parent.lookup(d.name, h, req)) !== undefined) throw new NinepError(Ename.exists, Errno.EEXIST);
    }
    if (d.uid !== '' && d.uid !== node.uid) throw perm();
    if (d.mode !== 0xffffffff && !owner) throw perm();
    if (d.gid !== '' && d.gid !== node.gid && !owner) throw perm();
    const truncate = !isDontTouchLength(d.length) && d.length !== node.length();
    if (truncate) {
      if (node.isDir) throw new NinepError(Ename.isdir, Errno.EISDIR);
      if (!hasPerm(node, uname, AWRITE)) throw perm();
      if (!(node instanceof FileNode) || node.ops.truncate === undefined) throw perm();
    }
    const times = d.mtime !== 0xffffffff || d.atime !== 0xffffffff;
    if (times && !owner && !hasPerm(node, uname, AWRITE)) throw perm();
    if (truncate) await (node as FileNode).ops.truncate!(h, d.length, req);
    if (rename) parent!.rename(node, d.name);
    if (d.mode !== 0xffffffff) node.setMode(d.mode);
    if (d.gid !== '') node.gid = d.gid;
    if (d.mtime !== 0xffffffff) node.mtime = d.mtime;
    if (d.atime !== 0xffffffff) node.atime = d.atime;
  }

  /** Trename (.L): moves the file to `dir` as `name`; see `move`. */
  rename(fid: Fid<Handle>, dir: Fid<Handle>, name: string): void {
    this.move(fid.aux.node, dir.aux.node as DirNode, name, fid.uname);
  }

  /** Trenameat (.L): moves olddir/oldname to newdir/newname; see `move`. */
  async renameat(olddir: Fid<Handle>, oldname: string, newdir: Fid<Handle>, newname: string, req: Req): Promise<void> {
    const node = await (olddir.aux.node as DirNode).lookup(oldname, olddir.aux, req);
    if (node === undefined) throw new NinepError(Ename.notfound, Errno.ENOENT);
    this.move(node, newdir.aux.node as DirNode, newname, olddir.uname);
  }

  /**
   * rename(2) on the tree: needs write permission in both directories; both must hold the file
   * statically; an existing target is replaced (a file by a file, an empty directory by a
   * directory); a directory cannot move below itself. The node keeps its qid.
   */
  private move(node: Node, to: DirNode, name: string, uname: string): void {
    const from = node.parent;
    if (from === undefined || !from.holds(node) || to.opts.list !== undefined) throw NinepError.errno(Errno.EPERM);
    if (!hasPerm(from, uname, AWRITE) || !hasPerm(to, uname, AWRITE)) throw perm();
    for (let d: DirNode | undefined = to; d !== undefined; d = d.parent) {
      if (d === node) throw NinepError.errno(Errno.EINVAL);
    }
    const old = to.child(name);
    if (old === node) return;
    if (old !== undefined) {
      if (old.isDir && !node.isDir) throw NinepError.errno(Errno.EISDIR);
      if (!old.isDir && node.isDir) throw NinepError.errno(Errno.ENOTDIR);
      if (old instanceof DirNode && old.size > 0) throw new NinepError(Ename.notempty, Errno.ENOTEMPTY);
      to.remove(name);
    }
    from.remove(node.name);
    node.name = name;
    to.add(node);
  }

  dirgen(fid: Fid<Handle>, index: number, req: Req): Awaitable<Dir | undefined> {
    const h = fid.aux;
    if (index === 0 || h.listing === undefined) {
      const v = (h.node as DirNode).list(h, req);
      if (isThenable<Node[]>(v)) {
        return Promise.resolve(v).then((l) => {
          h.listing = l;
          return l[index]?.stat();
        });
      }
      h.listing = v;
    }
    return h.listing[index]?.stat();
  }

  destroyfid(fid: Fid<Handle>): Awaitable<void> {
    const h = fid.aux;
    if (h === undefined || h.mode === undefined) return;
    h.mode = undefined;
    const node = h.node;
    const inst = node.instance;
    let v: Awaitable<void>;
    try {
      v = node instanceof FileNode && node.ops.close !== undefined ? node.ops.close(h) : undefined;
    } catch (err) {
      inst?.unref();
      throw err;
    }
    if (inst === undefined) return v;
    if (isThenable(v)) return Promise.resolve(v).finally(() => inst.unref());
    return inst.unref();
  }
}

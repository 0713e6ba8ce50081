/**
 * Clone directories, after Plan 9 ip(3): opening `clone` makes a new numbered directory `N`
 * with per-instance state, and the fid that opened clone becomes that instance's `ctl` (reading
 * it gives "N"). An instance lives while any of its files is open; when the last one is closed,
 * `close` runs and the directory goes (unless `keep`).
 */
import { Errno, NinepError } from '@prose/protocol';
import { ctlWrite, type Cmdtab, type CtlCall } from './ctl.js';
import { DirNode, FileNode, Node, type NodeOptions } from './node.js';
import { isThenable } from './reply.js';
import type { Req } from './req.js';
import type { Awaitable } from './srv.js';

/** What a clone directory makes its instances of (S: the per-instance state). */
export interface CloneDirOptions<S> extends NodeOptions {
  /** The state of a new instance numbered `n` (opening clone); throw to refuse the open. */
  instance(n: number, req: Req): Awaitable<S>;
  /** The files of an instance's directory; one must be named `ctl` (see `instanceCtl`). */
  files(inst: Instance<S>): Node[];
  /** The last open file of the instance was closed; the directory goes after (unless `keep`). */
  close?(inst: Instance<S>): Awaitable<void>;
  /** Keep an instance's directory after its last close, until `inst.remove()`. Default false. */
  keep?: boolean;
  /** Files beside `clone` (e.g. `stats`). */
  children?: Node[];
}

/** One numbered instance of a clone directory. */
export class Instance<S> {
  /** Its number: the directory's name and what reading its ctl gives. */
  readonly n: number;
  /** Per-instance state made by `create`. */
  state: S;
  /** Its directory `N`. */
  readonly dir: DirNode;
  private refs = 0;
  private gone = false;
  private readonly owner: CloneDir<S>;

  /** @internal */
  constructor(owner: CloneDir<S>, n: number, state: S, dir: DirNode) {
    this.owner = owner;
    this.n = n;
    this.state = state;
    this.dir = dir;
  }

  /** Open files of the instance. */
  get openCount(): number {
    return this.refs;
  }

  /** True once removed. */
  get removed(): boolean {
    return this.gone;
  }

  /** @internal A file of the instance was opened. */
  ref(): void {
    this.refs++;
  }

  /** @internal A file of the instance was closed. */
  unref(): Awaitable<void> {
    if (--this.refs > 0) return;
    return this.owner.idle(this);
  }

  /** Removes the directory now (open fids keep working on the detached files). */
  remove(): Awaitable<void> {
    if (this.gone) return;
    this.gone = true;
    return this.owner.drop(this);
  }
}

/**
 * A directory with a `clone` file: each open of clone makes a numbered instance directory and
 * leaves the fid on its ctl (ip(3)). Instances are listed and walked like static children.
 */
export class CloneDir<S = any> extends DirNode {
  /** The live instances by number. */
  readonly instances = new Map<number, Instance<S>>();
  private readonly copts: CloneDirOptions<S>;
  private readonly reserved = new Set<number>();

  /** A directory holding `clone` (mode 0666), the `children` and the instances. */
  constructor(name: string, opts: CloneDirOptions<S>) {
    super(name, opts.children ?? [], { perm: opts.perm, uid: opts.uid, gid: opts.gid, nUid: opts.nUid, nGid: opts.nGid });
    this.copts = opts;
    const open = (_h: unknown, _mode: number, req: Req) => this.newInstance(req);
    this.add(new FileNode('clone', { open }, { perm: 0o666, uid: this.uid, gid: this.gid }));
  }

  private async newInstance(req: Req): Promise<Node> {
    let n = 0;
    while (this.instances.has(n) || this.reserved.has(n)) n++;
    this.reserved.add(n);
    try {
      const state = await this.copts.instance(n, req);
      const dir = new DirNode(String(n), [], { uid: this.uid, gid: this.gid });
      const inst = new Instance(this, n, state, dir);
      for (const f of this.copts.files(inst)) dir.add(f);
      const ctl = dir.child('ctl');
      if (ctl === undefined) throw new NinepError('clone instance has no ctl file', Errno.EIO);
      mark(dir, inst);
      this.instances.set(n, inst);
      this.add(dir);
      return ctl;
    } finally {
      this.reserved.delete(n);
    }
  }

  /** @internal The instance's last open file was closed. */
  idle(inst: Instance<S>): Awaitable<void> {
    const close = this.copts.close;
    const v = close !== undefined && !inst.removed ? close(inst) : undefined;
    const after = () => {
      if (!this.copts.keep && inst.openCount === 0) return inst.remove();
    };
    return isThenable(v) ? Promise.resolve(v).then(after) : after();
  }

  /** @internal */
  drop(inst: Instance<S>): void {
    if (this.instances.get(inst.n) === inst) this.instances.delete(inst.n);
    if (this.holds(inst.dir)) this.remove(inst.dir.name);
  }
}

function mark(n: Node, inst: Instance<unknown>): void {
  n.instance = inst;
  if (n instanceof DirNode) for (const c of n.children) mark(c, inst);
}

/**
 * The usual `ctl` of an instance: reading gives the instance number, writing runs control
 * messages through `table` (ctx: the open file and request). Mode 0666.
 */
export function instanceCtl<S>(inst: Instance<S>, table: Cmdtab<CtlCall> = [], opts: NodeOptions = {}): FileNode {
  return new FileNode('ctl', { content: () => String(inst.n), write: ctlWrite(table) }, { perm: 0o666, ...opts });
}

/**
 * The served tree, what a partition mounts at /net:
 *
 *   cs                        connection server: write net!host!service, read clone lines
 *   tcp/ clone stats N/{ctl,data,err,listen,local,remote,status}
 *   udp/ clone stats N/{ctl,data,err,listen,local,remote,status}
 *
 * Conversations are CloneDir instances: opening clone makes one (the fid is its ctl), and it
 * goes when the last of its files is closed (hung up first). Opening `listen` waits for a call
 * on an announced conversation and makes the fid the ctl of a new conversation for it.
 */
import { Ename, Errno, NinepError } from '@prose/protocol';
import {
  CloneDir, FileNode, Tree, ctlWrite, dir, file, readStr, silentLogger, type DirNode, type Handle, type Instance,
  type Logger, type Node, type Req,
} from '@prose/server';
import { type Conv, type NetContext, ProtoStats } from './conv.js';
import { ServiceTable, csTranslate, systemResolver, type Resolver } from './cs.js';
import { DEFAULT_POLICY, Policy } from './policy.js';
import { TcpConv } from './tcp.js';
import { UdpConv } from './udp.js';

export interface NetOptions {
  /** Default: loopback only (DEFAULT_POLICY). */
  policy?: Policy;
  /** Default: the system resolver. */
  resolver?: Resolver;
  /** Default: /etc/services plus built-in names. */
  services?: ServiceTable;
  /** Where partitions mount this tree; the prefix of cs answers. Default "/net". */
  mount?: string;
  /** Default 30000. */
  connectTimeoutMs?: number;
  /** Bytes held per conversation for its readers. Default 1 MiB (one read of a default-msize client). */
  bufferBytes?: number;
  /** Calls waiting for listen per announced conversation. Default 16. */
  backlog?: number;
  /** Live conversations per protocol. Default 1024. */
  maxConversations?: number;
  logger?: Logger;
}

/** The defaults of NetOptions' limits. */
export const NET_DEFAULTS = {
  connectTimeoutMs: 30000,
  bufferBytes: 1024 * 1024,
  backlog: 16,
  maxConversations: 1024,
} as const;

type Proto = 'tcp' | 'udp';

/** The net gateway's tree and its conversations. */
export class NetFs {
  readonly root: DirNode;
  readonly tcp: CloneDir<Conv>;
  readonly udp: CloneDir<Conv>;
  readonly stats: Record<Proto, ProtoStats> = { tcp: new ProtoStats(), udp: new ProtoStats() };
  readonly ctx: NetContext;
  private readonly services: ServiceTable;
  private readonly mount: string;
  private readonly maxConversations: number;

  constructor(opts: NetOptions = {}) {
    this.ctx = {
      policy: opts.policy ?? new Policy(DEFAULT_POLICY),
      resolver: opts.resolver ?? systemResolver,
      connectTimeoutMs: opts.connectTimeoutMs ?? NET_DEFAULTS.connectTimeoutMs,
      bufferBytes: opts.bufferBytes ?? NET_DEFAULTS.bufferBytes,
      backlog: opts.backlog ?? NET_DEFAULTS.backlog,
      logger: opts.logger ?? silentLogger,
    };
    this.services = opts.services ?? ServiceTable.system();
    this.mount = opts.mount ?? '/net';
    this.maxConversations = opts.maxConversations ?? NET_DEFAULTS.maxConversations;
    this.tcp = this.protoDir('tcp', (n) => new TcpConv(n, this.ctx, this.stats.tcp));
    this.udp = this.protoDir('udp', (n) => new UdpConv(n, this.ctx, this.stats.udp));
    this.root = dir('/', [this.csFile(), this.tcp, this.udp], { perm: 0o555 });
  }

  /** A Srv for @prose/server (all three dialects). */
  tree(): Tree {
    return new Tree(this.root);
  }

  /** Drops every conversation now (service shutdown). */
  close(): void {
    for (const d of [this.tcp, this.udp]) {
      for (const inst of [...d.instances.values()]) {
        inst.state.destroy();
        inst.remove();
      }
    }
  }

  private protoDir(proto: Proto, make: (n: number) => Conv): CloneDir<Conv> {
    const stats = this.stats[proto];
    const d: CloneDir<Conv> = new CloneDir<Conv>(proto, {
      instance: (n) => {
        if (d.instances.size >= this.maxConversations) {
          throw new NinepError(`${proto}: no free conversations (max-conversations ${this.maxConversations})`, Errno.ENFILE);
        }
        return make(n);
      },
      files: (inst) => this.convFiles(d, inst),
      close: (inst) => inst.state.close(),
      children: [file('stats', { content: () => statsText(proto, stats, d) }, { perm: 0o444 })],
    });
    return d;
  }

  private convFiles(d: CloneDir<Conv>, inst: Instance<Conv>): Node[] {
    const c = inst.state;
    const ctl = ctlWrite(c.commands());
    return [
      file('ctl', {
        content: () => String(inst.n),
        write: (h, off, data, req) => record(c, () => ctl(h, off, data, req)),
      }, { perm: 0o666 }),
      file('data', {
        read: (_h, _off, count, req) => record(c, () => c.read(count, req.signal)),
        write: (_h, _off, data, req) => record(c, () => c.write(data, req.signal, req.dataLent)),
      }, { perm: 0o666 }),
      file('err', { content: () => c.err }, { perm: 0o444 }),
      file('listen', { open: (h, mode, req) => record(c, () => this.listen(d, c, h, mode, req)) }, { perm: 0o666 }),
      file('local', { content: () => c.local() }, { perm: 0o444 }),
      file('remote', { content: () => c.remote() }, { perm: 0o444 }),
      file('status', { content: () => c.status() }, { perm: 0o444 }),
    ];
  }

  /**
   * Opening N/listen: waits (until flushed) for a call on announced conversation `c`, makes a
   * new conversation for it as opening clone does, and returns that one's ctl, which the open
   * fid then is.
   */
  private async listen(d: CloneDir<Conv>, c: Conv, h: Handle, mode: number, req: Req): Promise<Node> {
    const call = await c.accept(req.signal);
    const clone = d.child('clone') as FileNode;
    let ctl: Node;
    try {
      ctl = (await clone.ops.open!(h, mode, req)) as Node;
    } catch (e) {
      c.refuse(call);
      throw e;
    }
    const inst = d.instances.get(Number(ctl.parent!.name))!;
    try {
      inst.state.adopt(call);
    } catch (e) {
      c.refuse(call);
      inst.state.destroy();
      await inst.remove();
      throw e;
    }
    return ctl;
  }

  /** /cs: per open, the answer lines of the last query written; each read returns one line. */
  private csFile(): FileNode {
    return file<string[]>('cs', {
      open: (h) => {
        h.state = [];
      },
      write: async (h, _off, data) => {
        h.state = [];
        h.state = await csTranslate(data.toString('utf8'), { resolver: this.ctx.resolver, services: this.services, mount: this.mount });
        return data.length;
      },
      read: (h, off, count) => csRead(h.state ?? [], off, count),
    }, { perm: 0o666 });
  }
}

/**
 * One answer line per read (ndb/cs style), each ending in a newline, addressed by offset into
 * the lines laid end to end: reading on from where the last read ended gives the next line.
 */
export function csRead(lines: readonly string[], offset: number, count: number): Buffer {
  let start = 0;
  for (const l of lines) {
    const line = l + '\n';
    const end = start + Buffer.byteLength(line);
    if (offset < end) return readStr(offset - start, count, line);
    start = end;
  }
  return Buffer.alloc(0);
}

/** Runs a conversation operation; an error (but a flush) becomes the conversation's `err`. */
function record<T>(c: Conv, f: () => T): T {
  const keep = (e: unknown) => {
    if (!(e instanceof NinepError && e.ename === Ename.interrupted)) c.err = e instanceof Error ? e.message : String(e);
    throw e;
  };
  try {
    const v = f();
    if (v instanceof Promise) return v.catch(keep) as T;
    return v;
  } catch (e) {
    return keep(e);
  }
}

function statsText(proto: Proto, s: ProtoStats, d: CloneDir<Conv>): string {
  let estab = 0;
  let listen = 0;
  for (const i of d.instances.values()) {
    if (i.state.state === 'Established') estab++;
    else if (i.state.state === 'Announced') listen++;
  }
  const lines: Array<[string, number]> = [
    ['Conv', d.instances.size],
    ['CurrEstab', estab],
    ['Announced', listen],
    ['ActiveOpens', s.activeOpens],
    ['PassiveOpens', s.passiveOpens],
    ['AttemptFails', s.attemptFails],
    ['Refused', s.refused],
    ['Dropped', s.dropped],
    ['InBytes', s.inBytes],
    ['OutBytes', s.outBytes],
  ];
  if (proto === 'udp') lines.push(['InDatagrams', s.inDatagrams], ['OutDatagrams', s.outDatagrams]);
  return lines.map(([k, v]) => `${k}: ${v}\n`).join('');
}

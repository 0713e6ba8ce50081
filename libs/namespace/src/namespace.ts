/**
 * A partition's name space (Plan 9 style): a mount table from paths to sources — services
 * mounted by name through the directory or by address, and binds of other paths — with union
 * directories (several members at one path, searched in order), and a file API by path.
 */
import * as path from 'node:path/posix';
import type { Fid } from '@prose/client';
import { WalkError } from '@prose/client';
import { DMDIR, Errno, NinepError, OREAD, OTRUNC, OWRITE, type Dir, type Qid } from '@prose/protocol';
import { NamespaceError } from './errors.js';
import { Session, type SessionOptions, type Source, type Tracked } from './session.js';

/** How a mount or bind joins what is already at the path (Plan 9 MREPL, MBEFORE, MAFTER). */
export type MountFlag = 'replace' | 'before' | 'after';

export interface MountOptions {
  flag?: MountFlag;
  /** The tree to attach to (aname) for this mount. */
  aname?: string;
  /** Creates go to this member of a union (Plan 9 MCREATE); default: the first member. */
  create?: boolean;
}

/** One member of a union: a session and the names under its attach point. */
interface Member {
  session: Session;
  prefix: string[];
  create: boolean;
}

export type NamespaceOptions = Omit<SessionOptions, 'aname'>;

function clean(p: string): string {
  const n = path.normalize('/' + p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function splitNames(p: string): string[] {
  return clean(p).split('/').filter(Boolean);
}

/**
 * The name space of one partition. Every path is absolute ("/n/data/x"); the longest mounted
 * prefix decides where it goes. Requests are retried across a failover when safe (walk, stat,
 * open, read, writes at an offset to files that are not append-only); create and remove are
 * not, and fail with NamespaceError EPROVIDERLOST when the provider goes during them.
 */
export class Namespace {
  private readonly table = new Map<string, Member[]>();
  private readonly sessions = new Set<Session>();
  private closed = false;

  constructor(private readonly opts: NamespaceOptions = {}) {}

  /**
   * Attaches `source` ({service} through the directory, or {addr}) and mounts it at `where`.
   * Resolves once attached; rejects (NamespaceError ENOPROVIDER) when nobody answers.
   */
  async mount(where: string, source: Source, mopts: MountOptions = {}): Promise<Session> {
    this.check();
    const s = new Session(source, { ...this.opts, aname: mopts.aname });
    await s.start();
    this.sessions.add(s);
    this.join(clean(where), { session: s, prefix: [], create: mopts.create ?? false }, mopts.flag ?? 'replace');
    return s;
  }

  /** Makes `from` (as it resolves now, first member) visible at `to` too. */
  bind(from: string, to: string, flag: MountFlag = 'replace', opts: { create?: boolean } = {}): void {
    this.check();
    const r = this.resolve(from);
    const m = r.members[0]!;
    this.join(clean(to), { session: m.session, prefix: [...m.prefix, ...r.rest], create: opts.create ?? false }, flag);
  }

  /** Removes everything at `where` (or only the members of `session`). Sessions no longer used are closed. */
  async unmount(where: string, session?: Session): Promise<void> {
    const k = clean(where);
    const ms = this.table.get(k);
    if (!ms) throw new NamespaceError(`unmount ${k}: not mounted`, 'ENOTMOUNTED');
    const left = session ? ms.filter((m) => m.session !== session) : [];
    if (left.length > 0) this.table.set(k, left);
    else this.table.delete(k);
    const used = new Set([...this.table.values()].flatMap((x) => x.map((m) => m.session)));
    for (const s of [...this.sessions]) {
      if (!used.has(s)) {
        this.sessions.delete(s);
        await s.close();
      }
    }
  }

  /** The mount table: path → member descriptions ("time@p1+a/b"). */
  mounts(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, ms] of [...this.table].sort()) out[k] = ms.map((m) => `${m.session.name}@${m.session.provider ?? '?'}${m.prefix.length ? '+' + m.prefix.join('/') : ''}`);
    return out;
  }

  private join(k: string, m: Member, flag: MountFlag): void {
    const ms = this.table.get(k) ?? [];
    if (flag === 'replace') this.table.set(k, [m]);
    else if (flag === 'before') this.table.set(k, [m, ...ms]);
    else this.table.set(k, [...ms, m]);
  }

  private check(): void {
    if (this.closed) throw new NamespaceError('name space closed', 'ECLOSED');
  }

  /** The union at the longest mounted prefix of `p`, and the names after it. */
  private resolve(p: string): { members: Member[]; rest: string[]; at: string } {
    this.check();
    const names = splitNames(p);
    for (let i = names.length; i >= 0; i--) {
      const at = '/' + names.slice(0, i).join('/');
      const ms = this.table.get(at);
      if (ms && ms.length > 0) return { members: ms, rest: names.slice(i), at };
    }
    throw new NamespaceError(`${clean(p)}: nothing mounted there`, 'ENOTMOUNTED');
  }

  /** Tries each member in order until one has the path (a union lookup). */
  private async firstMember<T>(p: string, what: string, fn: (m: Member, names: string[]) => Promise<T>): Promise<T> {
    const r = this.resolve(p);
    let last: unknown;
    for (const m of r.members) {
      try {
        return await fn(m, [...m.prefix, ...r.rest]);
      } catch (e) {
        last = e;
        if (!(e instanceof WalkError) || r.members.length === 1) throw e;
      }
    }
    throw last ?? new NinepError(`${what} ${p}: file not found`, Errno.ENOENT);
  }

  /** Walks to `p` and opens it with a 9P2000 mode (OREAD, OWRITE, ORDWR, | OTRUNC). */
  async open(p: string, mode = OREAD): Promise<File> {
    return this.firstMember(p, 'open', async (m, names) => {
      const fid = await m.session.run(`open ${p}`, true, async (client, root) => {
        const f = await m.session.walk(client, root, names);
        try {
          return await f.open(mode);
        } catch (e) {
          await f.clunk().catch(() => {});
          throw e;
        }
      });
      return new File(m.session, m.session.track(names, mode, fid), clean(p));
    });
  }

  /** Creates `p` (perm with DMDIR for a directory) and opens it with `mode`. Not retried. */
  async create(p: string, perm = 0o644, mode = OWRITE): Promise<File> {
    const dirPath = path.dirname(clean(p));
    const name = path.basename(clean(p));
    const r = this.resolve(dirPath);
    const m = r.members.find((x) => x.create) ?? r.members[0]!;
    const names = [...m.prefix, ...r.rest];
    const fid = await m.session.run(`create ${p}`, false, async (client, root) => {
      const f = await m.session.walk(client, root, names);
      try {
        return await f.create(name, perm, mode);
      } catch (e) {
        await f.clunk().catch(() => {});
        throw e;
      }
    });
    return new File(m.session, m.session.track([...names, name], mode & ~OTRUNC, fid), clean(p));
  }

  /** Creates directory `p`. */
  async mkdir(p: string, perm = 0o755): Promise<void> {
    await (await this.create(p, DMDIR | perm, OREAD)).close();
  }

  /** Removes `p`. Not retried across a failover. */
  async remove(p: string): Promise<void> {
    await this.firstMember(p, 'remove', (m, names) => m.session.run(`remove ${p}`, false, async (client, root) => {
      const f = await m.session.walk(client, root, names);
      m.session.forget(names);
      await f.remove();
    }));
  }

  /** The stat(5) record of `p`. */
  async stat(p: string): Promise<Dir> {
    return this.firstMember(p, 'stat', (m, names) => m.session.run(`stat ${p}`, true, async (client, root) => {
      const f = await m.session.walk(client, root, names);
      try {
        return await f.stat();
      } finally {
        await f.clunk().catch(() => {});
      }
    }));
  }

  /** The qid of `p`: from the walk cache when it was walked before, else by a walk. */
  async qid(p: string): Promise<Qid> {
    const r = this.resolve(p);
    const m = r.members[0]!;
    const names = [...m.prefix, ...r.rest];
    const c = m.session.cachedQid(names);
    if (c) return c;
    return (await this.stat(p)).qid;
  }

  /**
   * The entries of directory `p`: of every union member that has it, the first of each name
   * winning, plus the names of mount points just below `p`.
   */
  async readdir(p: string): Promise<Dir[]> {
    const r = this.resolve(p);
    const seen = new Map<string, Dir>();
    let found = false;
    let last: unknown;
    for (const m of r.members) {
      const names = [...m.prefix, ...r.rest];
      try {
        const ds = await m.session.run(`readdir ${p}`, true, async (client, root) => {
          const f = await m.session.walk(client, root, names);
          try {
            await f.open(OREAD);
            return await f.readDirs();
          } finally {
            await f.clunk().catch(() => {});
          }
        });
        found = true;
        for (const d of ds) if (!seen.has(d.name)) seen.set(d.name, d);
      } catch (e) {
        last = e;
        if (!(e instanceof WalkError)) throw e;
      }
    }
    if (!found) throw last;
    return [...seen.values()];
  }

  /** The names in directory `p`, sorted. */
  async list(p: string): Promise<string[]> {
    return (await this.readdir(p)).map((d) => d.name).sort();
  }

  /** The whole file at `p`. */
  async readFile(p: string): Promise<Buffer> {
    const f = await this.open(p, OREAD);
    try {
      const parts: Buffer[] = [];
      let off = 0;
      for (;;) {
        const b = await f.read(off, 65536);
        if (b.length === 0) break;
        parts.push(Buffer.from(b));
        off += b.length;
      }
      return Buffer.concat(parts);
    } finally {
      await f.close();
    }
  }

  /** Writes `data` at offset 0 of the existing file `p` (truncating it first). */
  async writeFile(p: string, data: Buffer | string): Promise<void> {
    const f = await this.open(p, OWRITE | OTRUNC);
    try {
      const b = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < b.length) off += await f.write(off, b.subarray(off));
    } finally {
      await f.close();
    }
  }

  /** Unmounts everything and closes every session. */
  async close(): Promise<void> {
    this.closed = true;
    this.table.clear();
    await Promise.all([...this.sessions].map((s) => s.close()));
    this.sessions.clear();
  }
}

/**
 * An open file of the name space. Its fid follows failovers: reads and writes at an offset are
 * retried on the new provider (writes to append-only or exclusive files are not).
 */
export class File {
  private done = false;

  constructor(readonly session: Session, private readonly t: Tracked, readonly path: string) {}

  get qid(): Qid {
    return this.t.fid.qid;
  }

  get mode(): number {
    return this.t.mode;
  }

  /** The Fid on the current provider. */
  get fid(): Fid {
    return this.t.fid;
  }

  private live(): void {
    if (this.done) throw new NinepError(`${this.path}: file closed`, Errno.EBADF);
  }

  /** At most `count` bytes at `offset` (empty at end of file). Retried across failover. */
  read(offset: number, count: number, opts?: { signal?: AbortSignal }): Promise<Buffer> {
    this.live();
    return this.session.runFid(this.t, `read ${this.path}`, true, (fid) => fid.read(offset, count, opts));
  }

  /** Writes `data` at `offset`; resolves with the count written. Retried unless append-only. */
  write(offset: number, data: Buffer, opts?: { signal?: AbortSignal }): Promise<number> {
    this.live();
    return this.session.runFid(this.t, `write ${this.path}`, !Session.isStream(this.t), (fid) => fid.write(offset, data, opts));
  }

  stat(): Promise<Dir> {
    this.live();
    return this.session.runFid(this.t, `stat ${this.path}`, true, (fid) => fid.stat());
  }

  /** Clunks the fid (on whichever provider holds it now). */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.session.untrack(this.t);
    await this.t.fid.clunk().catch(() => {});
  }
}

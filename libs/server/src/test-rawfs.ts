/**
 * Test helper: a lib9p-style Srv written directly on the callback table (no Tree): files by
 * path in a Map, fid.aux = the path (an immutable string, so the default clone's sharing is
 * right). Every callback logs a line to `log`; `async` makes every answer a promise; `gate`
 * holds reads until released. Not part of the build.
 */
import {
  DMDIR, Ename, Errno, NinepError, OTRUNC, QTDIR, isDontTouchLength, type Dir, type Qid,
} from '@prose/protocol';
import { Waiters } from './blocking.js';
import type { Fid } from './fid.js';
import type { Req } from './req.js';
import type { Awaitable, Srv } from './srv.js';

interface Entry {
  mode: number;
  data: Buffer;
  version: number;
  path: bigint;
  uid: string;
}

function parent(p: string): string {
  if (p === '/') return '/';
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export class RawFs implements Srv<string> {
  readonly files = new Map<string, Entry>();
  readonly log: string[] = [];
  /** Answer through promises instead of synchronously. */
  async = false;
  /** Reads of files named "slow*" wait here (and honour the request's signal). */
  readonly gate = new Waiters<string>();
  private next = 0n;

  constructor(paths: Record<string, string | null> = {}) {
    this.add('/', null);
    for (const [p, content] of Object.entries(paths)) this.add(p, content);
  }

  /** Adds a file (content a string) or a directory (null). */
  add(p: string, content: string | null, mode?: number): void {
    this.files.set(p, {
      mode: content === null ? (DMDIR | (mode ?? 0o777)) >>> 0 : mode ?? 0o666,
      data: Buffer.from(content ?? ''),
      version: 0,
      path: this.next++,
      uid: 'glenda',
    });
  }

  private answer<T>(v: T): Awaitable<T> {
    return this.async ? new Promise((resolve) => setImmediate(() => resolve(v))) : v;
  }

  private get(p: string): Entry {
    const e = this.files.get(p);
    if (!e) throw new NinepError(Ename.notfound, Errno.ENOENT);
    return e;
  }

  qid(p: string): Qid {
    const e = this.get(p);
    return { type: (e.mode >>> 24) & 0xff, version: e.version, path: e.path };
  }

  attach(fid: Fid<string>, afid: Fid<string> | undefined, req: Req): Awaitable<Qid> {
    this.log.push(`attach ${fid.fid} ${fid.uname} ${(req.ifcall as { aname: string }).aname}${afid ? ` afid ${afid.fid}` : ''}`);
    fid.aux = '/';
    return this.answer(this.qid('/'));
  }

  walk1(fid: Fid<string>, name: string): Awaitable<Qid> {
    this.log.push(`walk1 ${fid.fid} ${fid.aux} ${name}`);
    const p = name === '..' ? parent(fid.aux) : join(fid.aux, name);
    const q = this.qid(p);
    fid.aux = p;
    return this.answer(q);
  }

  open(fid: Fid<string>, mode: number): Awaitable<void> {
    this.log.push(`open ${fid.fid} ${fid.aux} ${mode.toString(8)}`);
    if (mode & OTRUNC) this.get(fid.aux).data = Buffer.alloc(0);
    return this.answer(undefined);
  }

  create(fid: Fid<string>, name: string, perm: number, mode: number, extension: string): Awaitable<Qid> {
    this.log.push(`create ${fid.fid} ${fid.aux} ${name} ${perm.toString(8)} ${mode.toString(8)}${extension ? ` ${extension}` : ''}`);
    const p = join(fid.aux, name);
    if (this.files.has(p)) throw new NinepError(Ename.exists, Errno.EEXIST);
    this.add(p, perm & DMDIR ? null : '', perm & 0o777);
    fid.aux = p;
    return this.answer(this.qid(p));
  }

  read(fid: Fid<string>, offset: number, count: number, req: Req): Awaitable<Buffer> {
    this.log.push(`read ${fid.fid} ${fid.aux} ${offset} ${count}`);
    if (fid.aux.startsWith('/slow')) return this.gate.wait(req.signal).then((s) => Buffer.from(s));
    const d = this.get(fid.aux).data;
    return this.answer(d.subarray(Math.min(offset, d.length), Math.min(d.length, offset + count)));
  }

  write(fid: Fid<string>, offset: number, data: Buffer): Awaitable<number> {
    this.log.push(`write ${fid.fid} ${fid.aux} ${offset} ${data.length}`);
    const e = this.get(fid.aux);
    const b = Buffer.alloc(Math.max(e.data.length, offset + data.length));
    e.data.copy(b);
    data.copy(b, offset);
    e.data = b;
    e.version++;
    return this.answer(data.length);
  }

  remove(fid: Fid<string>): Awaitable<void> {
    this.log.push(`remove ${fid.fid} ${fid.aux}`);
    const p = fid.aux;
    for (const k of this.files.keys()) if (k.startsWith(`${p}/`)) throw new NinepError(Ename.notempty, Errno.ENOTEMPTY);
    this.get(p);
    this.files.delete(p);
    return this.answer(undefined);
  }

  stat(fid: Fid<string>): Awaitable<Dir> {
    this.log.push(`stat ${fid.fid} ${fid.aux}`);
    return this.answer(this.dir(fid.aux));
  }

  dir(p: string): Dir {
    const e = this.get(p);
    return {
      type: 0, dev: 0, qid: this.qid(p), mode: e.mode, atime: 0, mtime: 0, length: e.mode & DMDIR ? 0 : e.data.length,
      name: p === '/' ? '/' : p.slice(p.lastIndexOf('/') + 1), uid: e.uid, gid: e.uid, muid: e.uid,
    };
  }

  wstat(fid: Fid<string>, d: Dir): Awaitable<void> {
    this.log.push(`wstat ${fid.fid} ${fid.aux}${d.name ? ` name ${d.name}` : ''}${isDontTouchLength(d.length) ? '' : ` length ${d.length}`}${d.mode !== 0xffffffff ? ` mode ${d.mode.toString(8)}` : ''}${d.mtime !== 0xffffffff ? ` mtime ${d.mtime}` : ''}`);
    const e = this.get(fid.aux);
    if (!isDontTouchLength(d.length)) e.data = Buffer.concat([e.data, Buffer.alloc(Math.max(0, d.length - e.data.length))]).subarray(0, d.length);
    if (d.mode !== 0xffffffff) e.mode = d.mode >>> 0;
    if (d.name !== '') {
      const to = join(parent(fid.aux), d.name);
      if (this.files.has(to)) throw new NinepError(Ename.exists, Errno.EEXIST);
      this.files.delete(fid.aux);
      this.files.set(to, e);
      fid.aux = to;
    }
    return this.answer(undefined);
  }

  dirgen(fid: Fid<string>, index: number): Awaitable<Dir | undefined> {
    const kids = [...this.files.keys()].filter((k) => k !== '/' && parent(k) === fid.aux).sort();
    const k = kids[index];
    return this.answer(k === undefined ? undefined : this.dir(k));
  }

  destroyfid(fid: Fid<string>): void {
    this.log.push(`destroy ${fid.fid} ${fid.aux ?? '-'}`);
  }

  /** True when a qid is a directory's. */
  static isDir(q: Qid): boolean {
    return (q.type & QTDIR) !== 0;
  }
}

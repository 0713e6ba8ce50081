/**
 * Directory listings for Treaddir (and 9P2000/.u directory reads).
 *
 * An open directory reads a snapshot of its entries when a listing starts (offset 0, or the
 * first Treaddir on the fid): the cookie of entry i is i+1, so a client continuing from any
 * cookie of that snapshot gets every entry exactly once, whatever happens to the directory
 * meanwhile (rewinding to 0 takes a new snapshot, as rewinddir(3) does).
 *
 * Rreaddir carries a qid per entry (Linux uses qid.path as d_ino). The snapshot is read with
 * getdents64 (@prose/posix), which gives each entry's inode number and type with its name: the
 * qids come from the directory itself, with no lstat per entry. Where a file system answers
 * DT_UNKNOWN, and when the addon is missing (Node's readdir has no inode numbers), entries are
 * lstat'ed instead, lazily, for the entries a reply carries. Listings are cached per directory
 * and reused while the directory's ctime is unchanged: any entry added, removed or renamed
 * changes it. A listing is cached only when taken `racyMs` after the
 * directory's last change, so that a change in the same coarse timestamp tick as the snapshot
 * cannot go unseen (git's "racy timestamp" rule).
 */
import * as fs from 'node:fs';
import { havePosix, readDirectory, type DirEntries } from '@prose/posix';
import { DT_DIR, DT_UNKNOWN, QTDIR, type Dirent, type Qid } from '@prose/protocol';
import { dtOf, dtOfDirent, type QidPaths } from './attrs.js';
import { O_DIRECTORY, at } from './sandbox.js';

/**
 * One directory entry of a listing: the Dirent an Rreaddir carries (cookie `offset` = index + 1,
 * fixed for the snapshot), kept as is so that replies reuse it. `qid` is undefined until filled
 * (DT_UNKNOWN entries, or a listing read without the addon).
 */
export interface Entry {
  name: string;
  /** DT_* type from the directory itself. */
  type: number;
  offset: number;
  qid: Qid | undefined;
  /** Bytes of the entry in an Rreaddir (qid, offset, type, name). */
  size: number;
}

/** Bytes of a dirent for `name` in an Rreaddir: qid[13] offset[8] type[1] name[s]. */
function direntBytes(name: string): number {
  return 24 + Buffer.byteLength(name);
}

const QT_OF_DT: Record<number, number> = { 4: QTDIR, 10: 0x02 };

/**
 * The entries of directory `dirfd` (an O_PATH descriptor) after "." and "..", with qids from
 * getdents64 (inode number and type; version 0), or from Node's readdir without qids when the
 * addon is missing.
 */
function readEntries(dirfd: number, dev: bigint, paths: QidPaths, into: Entry[]): void {
  if (!havePosix()) {
    for (const d of fs.readdirSync(at(dirfd), { withFileTypes: true })) {
      into.push({ name: d.name, type: dtOfDirent(d), offset: into.length + 1, qid: undefined, size: direntBytes(d.name) });
    }
    return;
  }
  const fd = fs.openSync(at(dirfd), fs.constants.O_RDONLY | O_DIRECTORY);
  let d: DirEntries;
  try {
    d = readDirectory(fd);
  } finally {
    fs.closeSync(fd);
  }
  const { names, inos, types, nameBytes } = d;
  const top = paths.path(dev, 0n);
  for (let i = 0; i < names.length; i++) {
    const t = types[i]!;
    const qid = t === DT_UNKNOWN ? undefined : { type: QT_OF_DT[t] ?? 0, version: 0, path: top === 0n ? inos[i]! : top ^ inos[i]! };
    const name = names[i]!;
    into.push({ name, type: t, offset: into.length + 1, qid, size: 24 + nameBytes[i]! });
  }
}

/** The service's working directory, restored after each batch of relative lstats. */
const HOME = process.cwd();

function chdirTo(dir: string): boolean {
  try {
    process.chdir(dir);
    return true;
  } catch {
    return false;
  }
}

/** A snapshot of one directory's entries, "." and ".." first. */
export class Listing {
  constructor(readonly entries: Entry[], private readonly dirfd: number, private readonly paths: QidPaths) {}

  get length(): number {
    return this.entries.length;
  }

  /** Entries [from, to) as Rreaddir dirents (qids filled; the cached objects themselves). */
  dirents(from: number, to: number): Dirent[] {
    this.fill(from, to);
    return this.entries.slice(from, to) as Dirent[];
  }

  /** Entry `i` with its qid (lstat'ed now if not yet known); undefined past the end. */
  entry(i: number): Entry | undefined {
    const e = this.entries[i];
    if (e !== undefined && e.qid === undefined) this.fill(i, i + 1);
    return e;
  }

  /**
   * Fills the qids of entries [from, to). Many at once run with the working directory set to
   * the listed directory (through its descriptor), so each lstat looks up one name instead of
   * resolving /proc/self/fd/N/name: a third less per entry. This is synchronous code: nothing
   * else runs meanwhile, and the export never uses relative paths anywhere else.
   */
  fill(from: number, to: number): void {
    const end = Math.min(to, this.entries.length);
    let todo = 0;
    for (let i = from; i < end; i++) if (this.entries[i]!.qid === undefined) todo++;
    if (todo === 0) return;
    const relative = todo > 8 && chdirTo(at(this.dirfd));
    try {
      for (let i = from; i < end; i++) {
        const e = this.entries[i]!;
        if (e.qid !== undefined) continue;
        const p = relative ? e.name : at(this.dirfd, e.name);
        let st: fs.Stats | fs.BigIntStats | undefined;
        try {
          st = fs.lstatSync(p);
          if (st.ino > Number.MAX_SAFE_INTEGER) st = fs.lstatSync(p, { bigint: true });
        } catch {
          st = undefined;
        }
        // An entry gone since the snapshot keeps its cookie, with a placeholder qid.
        const qpath = st === undefined ? 0n : this.paths.path(BigInt(st.dev), BigInt(st.ino));
        if (e.type === DT_UNKNOWN && st !== undefined) e.type = dtOf(Number(st.mode));
        e.qid = { type: QT_OF_DT[e.type] ?? 0, version: 0, path: qpath };
      }
    } finally {
      if (relative) chdirTo(HOME);
    }
  }
}

interface Cached {
  ctimeNs: bigint;
  entries: Entry[];
}

/** Listings by directory (dev:ino), valid while the directory's ctime is unchanged. LRU by entries held. */
export class DirCache {
  private readonly map = new Map<string, Cached>();
  private held = 0;

  constructor(private readonly maxEntries = 200_000, private readonly racyMs = 50) {}

  /**
   * The listing of directory `dirfd` (identity `key`, stat `st`): from the cache when the
   * directory has not changed, else read now. `self` and `parent` are the qids of "." and "..".
   */
  list(key: string, dirfd: number, st: fs.BigIntStats, self: Qid, parent: Qid, paths: QidPaths): Listing {
    const hit = this.map.get(key);
    if (hit !== undefined && hit.ctimeNs === st.ctimeNs) {
      this.map.delete(key);
      this.map.set(key, hit);
      return new Listing(hit.entries, dirfd, paths);
    }
    if (hit !== undefined) this.drop(key, hit);
    const entries: Entry[] = [
      { name: '.', type: DT_DIR, offset: 1, qid: self, size: direntBytes('.') },
      { name: '..', type: DT_DIR, offset: 2, qid: parent, size: direntBytes('..') },
    ];
    readEntries(dirfd, st.dev, paths, entries);
    const changedMs = Number(st.ctimeNs / 1_000_000n);
    if (this.maxEntries > 0 && Date.now() - changedMs > this.racyMs && entries.length <= this.maxEntries) {
      this.map.set(key, { ctimeNs: st.ctimeNs, entries });
      this.held += entries.length;
      while (this.held > this.maxEntries) {
        const [k, v] = this.map.entries().next().value as [string, Cached];
        this.drop(k, v);
      }
    }
    return new Listing(entries, dirfd, paths);
  }

  private drop(key: string, c: Cached): void {
    this.map.delete(key);
    this.held -= c.entries.length;
  }
}

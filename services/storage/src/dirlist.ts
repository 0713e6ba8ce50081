/**
 * Directory listings for Treaddir (and 9P2000/.u directory reads).
 *
 * An open directory reads a snapshot of its entries when a listing starts (offset 0, or the
 * first Treaddir on the fid): the cookie of entry i is i+1, so a client continuing from any
 * cookie of that snapshot gets every entry exactly once, whatever happens to the directory
 * meanwhile (rewinding to 0 takes a new snapshot, as rewinddir(3) does).
 *
 * A snapshot is kept encoded, as the very bytes Rreaddirs carry (`@prose/protocol`'s
 * DirentList): a reply is a view of the whole entries that fit its count, found by binary
 * search over the entries' offsets; nothing is encoded per reply and no object is kept per entry.
 *
 * Rreaddir carries a qid per entry (Linux uses qid.path as d_ino). The snapshot is read with
 * getdents64 (@prose/posix), which gives each entry's inode number and type with its name: the
 * qids come from the directory itself, with no lstat per entry, and the addon encodes the
 * dirents in C straight from the getdents64 records (no name becomes a string). A directory
 * with a name that is not UTF-8 is listed through strings instead, in one pass over the
 * addon's arrays, so that its names read as the walk and the 9P2000 reads decode them. Where a
 * file system answers DT_UNKNOWN, and when the addon is missing (Node's readdir has no inode
 * numbers), entries are lstat'ed instead, lazily, for the entries a reply carries, and their
 * qid and type rewritten in place before the reply is handed out. Listings are cached per
 * directory and reused while the directory's ctime is unchanged: any entry added, removed or
 * renamed changes it. A listing is cached only when taken `racyMs` after the directory's last
 * change, so that a change in the same coarse timestamp tick as the snapshot cannot go unseen
 * (git's "racy timestamp" rule).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { havePosix, lstatAt, readDirectoryEncoded, readDirectoryJoined, type DirEntriesJoined, type HostStat } from '@prose/posix';
import { DIRENT_HEAD, DT_DIR, DT_UNKNOWN, DirentList, QTDIR, QTSYMLINK, type Qid } from '@prose/protocol';
import { dtOf, dtOfDirent, type QidPaths } from './attrs.js';
import { O_DIRECTORY, at } from './sandbox.js';

/** One entry of a listing, decoded (for 9P2000/.u directory reads). */
export interface Entry {
  name: string;
  /** DT_* type. */
  type: number;
  qid: Qid;
}

/** QT* of each DT_* (directories and symlinks; everything else is a plain file). */
const QT_OF_DT = new Uint8Array(16);
QT_OF_DT[DT_DIR] = QTDIR;
QT_OF_DT[10] = QTSYMLINK;

const LITTLE_ENDIAN = os.endianness() === 'LE';
const EMPTY = Buffer.alloc(0);
const SLASH = 0x2f;

/** A new listing holding "." and ".." (qids `self` and `parent`), with room for `bytes` and `entries` more. */
function startList(self: Qid, parent: Qid, bytes: number, entries: number): DirentList {
  const list = new DirentList(2 * DIRENT_HEAD + 3 + bytes, 2 + entries);
  list.push({ qid: self, offset: 1, type: DT_DIR, name: '.' });
  list.push({ qid: parent, offset: 2, type: DT_DIR, name: '..' });
  return list;
}

/**
 * The listing of directory `dirfd` (an O_PATH descriptor): "." and "..", then its entries with
 * qids from getdents64 (inode number and type; version 0), or from Node's readdir without qids
 * when the addon is missing. `pending` marks the entries whose qid is still to be filled (1), or
 * is undefined when there are none.
 */
function readListing(dirfd: number, dev: bigint, self: Qid, parent: Qid, paths: QidPaths): { list: DirentList; pending: Uint8Array | undefined } {
  if (!havePosix()) {
    const ents = fs.readdirSync(at(dirfd), { withFileTypes: true });
    const list = startList(self, parent, 4096, ents.length);
    const pending = new Uint8Array(list.length + ents.length).fill(1, list.length);
    for (const d of ents) {
      list.push({ qid: { type: 0, version: 0, path: 0n }, offset: list.length + 1, type: dtOfDirent(d), name: d.name });
    }
    list.trim();
    return { list, pending };
  }
  const top = paths.path(dev, 0n);
  // "." and ".." encoded here; the addon writes the entries after them, in C from the
  // getdents64 records (cookies from 3), into the one buffer the listing keeps.
  const head = startList(self, parent, 0, 0);
  const prefix = head.bytes(0, 2);
  const encoded = withOpenDir(dirfd, (fd) => readDirectoryEncoded(fd, top, 3, prefix));
  if (encoded !== undefined) {
    const { records, ends, unknown } = encoded;
    const starts = new Uint32Array(3 + ends.length);
    starts[1] = head.bytes(0, 1).length;
    starts[2] = prefix.length;
    starts.set(ends, 3);
    const list = DirentList.fromEncoded(records, starts);
    let pending: Uint8Array | undefined;
    if (unknown.length > 0) {
      pending = new Uint8Array(2 + ends.length);
      for (const i of unknown) pending[2 + i] = 1;
    }
    return { list, pending };
  }
  // A name that is not UTF-8 (or an addon from before readdirEncoded): names through strings.
  return encodeListing(withOpenDir(dirfd, readDirectoryJoined), top, self, parent);
}

/** `f` of a descriptor opened for reading directory `dirfd` (O_PATH) from its start; closed after. */
function withOpenDir<T>(dirfd: number, f: (fd: number) => T): T {
  const fd = fs.openSync(at(dirfd), fs.constants.O_RDONLY | O_DIRECTORY);
  try {
    return f(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Encodes the addon's listing `d` after "." and ".." (qids `self` and `parent`): qid.path =
 * `top` ^ d_ino (`top` holds the device index), type from d_type, version 0, cookie = index + 1.
 * One pass, no object per entry. DT_UNKNOWN entries get a placeholder qid and are marked pending.
 */
export function encodeListing(d: DirEntriesJoined, top: bigint, self: Qid, parent: Qid): { list: DirentList; pending: Uint8Array | undefined } {
  const { joined, inos, types, nameBytes } = d;
  const n = inos.length;
  const names = Buffer.from(joined, 'utf8');
  const list = startList(self, parent, n * DIRENT_HEAD + names.length, n);
  // The names' bytes as encoded here: the addon's lengths unless a name was not valid UTF-8
  // (decoded with U+FFFD, which never makes a name shorter): then split on the "/"s.
  let lens: Uint16Array | Uint32Array = nameBytes;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += nameBytes[i]!;
  if (sum + n - 1 !== names.length) {
    lens = new Uint32Array(n);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const q = i === n - 1 ? names.length : names.indexOf(SLASH, p);
      lens[i] = q - p;
      p = q + 1;
    }
  }
  const topLo = Number(top & 0xffffffffn) | 0;
  const topHi = Number(top >> 32n) | 0;
  const words = LITTLE_ENDIAN ? new Uint32Array(inos.buffer, inos.byteOffset, n * 2) : undefined;
  const first = list.length;
  let pending: Uint8Array | undefined;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const t = types[i]!;
    let lo: number;
    let hi: number;
    if (words !== undefined) {
      lo = words[2 * i]! ^ topLo;
      hi = words[2 * i + 1]! ^ topHi;
    } else {
      const v = top ^ inos[i]!;
      lo = Number(v & 0xffffffffn);
      hi = Number(v >> 32n);
    }
    if (t === DT_UNKNOWN) {
      pending ??= new Uint8Array(first + n);
      pending[first + i] = 1;
      lo = hi = 0;
    }
    const len = lens[i]!;
    list.pushParts(QT_OF_DT[t & 15]!, 0, lo, hi, first + i + 1, t, names, p, p + len);
    p += len + 1;
  }
  return { list, pending };
}

/** A snapshot of one directory's entries, "." and ".." first, encoded. */
export class Listing {
  constructor(
    private readonly list: DirentList,
    private readonly pending: Uint8Array | undefined,
    private readonly dirfd: number,
    private readonly paths: QidPaths,
  ) {}

  get length(): number {
    return this.list.length;
  }

  /**
   * The Rreaddir payload after cookie `cookie` (= from entry `cookie`): the whole entries that
   * fit in `count` bytes, as a view of the snapshot (qids filled). Past the end: no bytes. When
   * not even the first fits, that entry alone (longer than `count`: the framework answers the
   * error).
   */
  reply(cookie: number, count: number): Buffer {
    const l = this.list;
    if (!(cookie < l.length)) return EMPTY;
    let end = l.fit(cookie, count);
    if (end === cookie) end = cookie + 1;
    this.fill(cookie, end);
    return l.bytes(cookie, end);
  }

  /** Entry `i` decoded, with its qid (lstat'ed now if not yet known); undefined past the end. */
  entry(i: number): Entry | undefined {
    if (!(i < this.list.length)) return undefined;
    this.fill(i, i + 1);
    return { name: this.list.name(i), type: this.list.type(i), qid: this.list.qid(i) };
  }

  /**
   * Fills the qids of entries [from, to): an lstat of each name in the listed directory (by
   * its descriptor: statx(2) through @prose/posix, or /proc/self/fd without the addon).
   */
  fill(from: number, to: number): void {
    const pending = this.pending;
    if (pending === undefined) return;
    const end = Math.min(to, this.list.length);
    for (let i = from; i < end; i++) {
      if (pending[i] === 0) continue;
      let st: HostStat | undefined;
      try {
        st = lstatAt(this.dirfd, this.list.name(i));
      } catch {
        st = undefined;
      }
      // An entry gone since the snapshot keeps its cookie, with a placeholder qid.
      const qpath = st === undefined ? 0n : this.paths.path(st.dev, st.ino);
      let type = this.list.type(i);
      if (type === DT_UNKNOWN && st !== undefined) {
        type = dtOf(st.mode);
        this.list.setType(i, type);
      }
      this.list.setQid(i, { type: QT_OF_DT[type & 15]!, version: 0, path: qpath });
      pending[i] = 0;
    }
  }
}

interface Cached {
  ctimeSec: number;
  ctimeNsec: number;
  list: DirentList;
  pending: Uint8Array | undefined;
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
  list(key: string, dirfd: number, st: HostStat, self: Qid, parent: Qid, paths: QidPaths): Listing {
    const hit = this.map.get(key);
    if (hit !== undefined && hit.ctimeSec === st.ctimeSec && hit.ctimeNsec === st.ctimeNsec) {
      this.map.delete(key);
      this.map.set(key, hit);
      return new Listing(hit.list, hit.pending, dirfd, paths);
    }
    if (hit !== undefined) this.drop(key, hit);
    const { list, pending } = readListing(dirfd, st.dev, self, parent, paths);
    const changedMs = st.ctimeSec * 1000 + st.ctimeNsec / 1e6;
    if (this.maxEntries > 0 && Date.now() - changedMs > this.racyMs && list.length <= this.maxEntries) {
      this.map.set(key, { ctimeSec: st.ctimeSec, ctimeNsec: st.ctimeNsec, list, pending });
      this.held += list.length;
      while (this.held > this.maxEntries) {
        const [k, v] = this.map.entries().next().value as [string, Cached];
        this.drop(k, v);
      }
    }
    return new Listing(list, pending, dirfd, paths);
  }

  private drop(key: string, c: Cached): void {
    this.map.delete(key);
    this.held -= c.list.length;
  }
}

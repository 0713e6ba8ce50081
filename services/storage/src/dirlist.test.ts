/**
 * Encoded listings: every Rreaddir payload a listing hands out must equal what the Dirent
 * object path (packDirents over the same entries) would send, for every cookie and count; the
 * cache must be dropped when the directory changes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fstat, readDirents, type HostStat } from '@prose/posix';
import { DIRENT_HEAD, DirentList, packDirents, unpackDirents, type Dirent, type Qid } from '@prose/protocol';
import { QidPaths } from './attrs.js';
import { DirCache, Listing, encodeListing } from './dirlist.js';

const SELF: Qid = { type: 0x80, version: 11, path: 1n };
const PARENT: Qid = { type: 0x80, version: 12, path: 2n };

let base: string;
let dir: string;
let dirfd: number;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'dirlist-'));
  dir = path.join(base, 'd');
  fs.mkdirSync(dir);
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(dir, `file-${i}`), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.symlinkSync('../elsewhere', path.join(dir, 'link'));
  fs.writeFileSync(path.join(dir, 'ünïcödé 日本 😀'), '');
  fs.writeFileSync(path.join(dir, 'n'.repeat(255)), '');
  // Not UTF-8: listed with U+FFFD, as Node's readdir does (the names are then split on "/").
  fs.writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe])]), '');
  dirfd = fs.openSync(dir, fs.constants.O_RDONLY);
});

afterAll(() => {
  fs.closeSync(dirfd);
  fs.rmSync(base, { recursive: true, force: true });
});

function stat(): HostStat {
  return fstat(dirfd);
}

function paths(): QidPaths {
  return new QidPaths(stat().dev);
}

/** The object form of the listing, made independently: getdents order, lstat for nothing. */
function objects(): Dirent[] {
  const ents: Dirent[] = [
    { qid: SELF, offset: 1, type: 4, name: '.' },
    { qid: PARENT, offset: 2, type: 4, name: '..' },
  ];
  const fd = fs.openSync(dir, fs.constants.O_RDONLY);
  try {
    for (const d of readDirents(fd)) {
      const qt = d.type === 4 ? 0x80 : d.type === 10 ? 0x02 : 0;
      ents.push({ qid: { type: qt, version: 0, path: d.ino }, offset: ents.length + 1, type: d.type, name: d.name });
    }
  } finally {
    fs.closeSync(fd);
  }
  return ents;
}

/** What the framework sends for `reply`: the whole entries within count, an error when none fits. */
function sent(l: Listing, cookie: number, count: number): Buffer | 'EINVAL' {
  const b = l.reply(cookie, count);
  return b.length > count ? 'EINVAL' : b;
}

function expected(ents: Dirent[], cookie: number, count: number): Buffer | 'EINVAL' {
  const rest = ents.slice(cookie);
  const { data, n } = packDirents(rest, count);
  return n === 0 && rest.length > 0 ? 'EINVAL' : data;
}

test('every reply equals the Dirent object path, byte for byte, for every cookie and many counts', () => {
  const l = new DirCache(0).list('k', dirfd, stat(), SELF, PARENT, paths());
  const ents = objects();
  expect(l.length).toBe(ents.length);
  expect(ents.map((e) => e.name).sort()).toEqual(['.', '..', ...fs.readdirSync(dir)].sort());
  const whole = l.reply(0, 1 << 20);
  expect(unpackDirents(whole)).toEqual(ents);
  const counts = [0, 1, DIRENT_HEAD, DIRENT_HEAD + 1, 30, 100, 301, 1000, 4096, 8168, whole.length - 1, whole.length, whole.length + 1];
  const differ: string[] = [];
  for (let cookie = 0; cookie <= ents.length + 1; cookie++) {
    for (const count of counts) {
      const got = sent(l, cookie, count);
      const want = expected(ents, cookie, count);
      const same = typeof got === 'string' || typeof want === 'string' ? got === want : got.equals(want);
      if (!same) differ.push(`cookie ${cookie} count ${count}`);
    }
  }
  expect(differ).toEqual([]);
  expect(ents.some((e) => e.name === 'bad-\ufffd\ufffd')).toBe(true);
  // Continuing from each cookie a client is given reaches every entry once.
  for (const count of [64, 700, 4096]) {
    const names: string[] = [];
    let cookie = 0;
    for (;;) {
      const got = unpackDirents(l.reply(cookie, count));
      if (got.length === 0) break;
      names.push(...got.map((e) => e.name));
      cookie = got[got.length - 1]!.offset;
    }
    expect(names).toEqual(ents.map((e) => e.name));
  }
});

test('a cached listing is reused while the directory is unchanged and read again after a change', async () => {
  const cache = new DirCache(1000, 0);
  await new Promise((r) => setTimeout(r, 20));
  const a = cache.list('k', dirfd, stat(), SELF, PARENT, paths());
  const b = cache.list('k', dirfd, stat(), SELF, PARENT, paths());
  expect(b.reply(0, 1 << 20).buffer).toBe(a.reply(0, 1 << 20).buffer);
  fs.writeFileSync(path.join(dir, 'added'), '');
  fs.rmSync(path.join(dir, 'file-7'));
  try {
    const c = cache.list('k', dirfd, stat(), SELF, PARENT, paths());
    const names = unpackDirents(c.reply(0, 1 << 20)).map((e) => e.name);
    expect(names).toContain('added');
    expect(names).not.toContain('file-7');
    expect(c.length).toBe(a.length);
    // The old snapshot is untouched: a client continuing it still sees what it started with.
    expect(unpackDirents(a.reply(0, 1 << 20)).map((e) => e.name)).toContain('file-7');
    expect(unpackDirents(c.reply(0, 1 << 20))).toEqual(objects());
  } finally {
    fs.rmSync(path.join(dir, 'added'));
    fs.writeFileSync(path.join(dir, 'file-7'), '');
  }
});

test('entries without a qid (DT_UNKNOWN) are lstat\'ed when a reply carries them, in place', () => {
  const ents = objects();
  const list = new DirentList();
  const pending = new Uint8Array(ents.length);
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i]!;
    if (i >= 2 && i % 3 === 0) {
      list.push({ ...e, type: 0, qid: { type: 0, version: 0, path: 0n } });
      pending[i] = 1;
    } else list.push(e);
  }
  const l = new Listing(list, pending, dirfd, paths());
  expect(unpackDirents(l.reply(5, 200))).toEqual(unpackDirents(packDirents(ents.slice(5), 200).data));
  expect(unpackDirents(l.reply(0, 1 << 20))).toEqual(ents);
  const sub = ents.findIndex((e) => e.name === 'sub');
  expect(l.entry(sub)).toEqual({ name: 'sub', type: 4, qid: ents[sub]!.qid });
  expect(l.entry(ents.length)).toBeUndefined();
});

test('encodeListing: device index in qid.path, types to qid types, DT_UNKNOWN pending', () => {
  const names = ['f', 'd', 'l', 'u'];
  const d = {
    joined: names.join('/'),
    inos: BigUint64Array.from([5n, 6n, 0x1_0000_0007n, 8n]),
    types: Uint8Array.from([8, 4, 10, 0]),
    nameBytes: Uint16Array.from([1, 1, 1, 1]),
  };
  const top = 3n << 56n;
  const { list, pending } = encodeListing(d, top, SELF, PARENT);
  expect(unpackDirents(list.bytes(0, list.length))).toEqual([
    { qid: SELF, offset: 1, type: 4, name: '.' },
    { qid: PARENT, offset: 2, type: 4, name: '..' },
    { qid: { type: 0, version: 0, path: top | 5n }, offset: 3, type: 8, name: 'f' },
    { qid: { type: 0x80, version: 0, path: top | 6n }, offset: 4, type: 4, name: 'd' },
    { qid: { type: 0x02, version: 0, path: top | 0x1_0000_0007n }, offset: 5, type: 10, name: 'l' },
    { qid: { type: 0, version: 0, path: 0n }, offset: 6, type: 0, name: 'u' },
  ]);
  expect(Array.from(pending!)).toEqual([0, 0, 0, 0, 0, 1]);
});

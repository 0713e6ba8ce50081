/**
 * The 9P2000.u (and plain 9P2000) part of the storage suite: Tcreate with perm and the .u
 * extensions, Topen modes, Tstat/Twstat records and directory reads of stat records. diod speaks
 * only 9P2000.L, so these run against our service alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DMDEVICE, DMDIR, DMLINK, DMNAMEDPIPE, DMSYMLINK, OREAD, ORDWR, OTRUNC, OWRITE, QTDIR, QTSYMLINK,
} from '@prose/protocol';
import { code, type OpCase } from './suite.js';
import { pattern } from './helpers.js';

const ino = (p: string) => BigInt(fs.lstatSync(p).ino);

export const U_CASES: OpCase[] = [
  {
    name: '.u create of a file (perm as given), write, read, stat',
    diod: '9P2000.u',
    async run({ dir, host }) {
      const f = await (await dir.clone()).create('file', 0o640, ORDWR);
      const data = pattern(70_000, 3);
      await f.writeAll(data);
      const back = (await f.readAll()).equals(data);
      const st = await f.stat();
      await f.clunk();
      return {
        back, host: fs.readFileSync(path.join(host, 'file')).equals(data), mode: (st.mode & 0o777).toString(8),
        length: st.length, name: st.name, qid: st.qid.path === ino(path.join(host, 'file')), nUid: st.nUid === process.getuid!(),
        hostMode: (fs.statSync(path.join(host, 'file')).mode & 0o777).toString(8),
        again: await code((await dir.clone()).create('file', 0o644, OWRITE)),
      };
    },
    expect: { back: true, host: true, mode: '640', length: 70_000, name: 'file', qid: true, nUid: true, hostMode: '640', again: 'EEXIST' },
  },
  {
    name: '.u create with DMDIR, DMSYMLINK, DMLINK, DMNAMEDPIPE; DMDEVICE is EPERM',
    diod: '9P2000.u',
    async run({ dir, host }) {
      const d = await (await dir.clone()).create('sub', DMDIR | 0o750, OREAD);
      const dq = (d.qid.type & QTDIR) === QTDIR;
      await d.clunk();
      const s = await (await dir.clone()).create('sl', DMSYMLINK | 0o777, OREAD, { extension: '/etc/passwd' });
      const sq = (s.qid.type & QTSYMLINK) === QTSYMLINK;
      const sst = await s.stat();
      await s.clunk();
      fs.writeFileSync(path.join(host, 'orig'), 'o');
      const o = await dir.walk('orig');
      const l = await (await dir.clone()).create('hard', DMLINK, OREAD, { extension: String(o.fid) });
      await Promise.all([l.clunk(), o.clunk()]);
      const p = await (await dir.clone()).create('pipe', DMNAMEDPIPE | 0o600, OREAD);
      await p.clunk();
      const devFid = await dir.clone();
      const dev = await code(devFid.create('dev', DMDEVICE | 0o600, OREAD, { extension: 'c 1 3' }));
      await devFid.clunk();
      return {
        dq, dir: fs.statSync(path.join(host, 'sub')).isDirectory(), dirMode: (fs.statSync(path.join(host, 'sub')).mode & 0o777).toString(8),
        sq, link: fs.readlinkSync(path.join(host, 'sl')), ext: sst.extension, slMode: (sst.mode & DMSYMLINK) !== 0,
        hard: ino(path.join(host, 'hard')) === ino(path.join(host, 'orig')) && fs.statSync(path.join(host, 'orig')).nlink === 2,
        pipe: fs.lstatSync(path.join(host, 'pipe')).isFIFO(),
        dev, noDev: !fs.existsSync(path.join(host, 'dev')),
      };
    },
    expect: {
      dq: true, dir: true, dirMode: '750', sq: true, link: '/etc/passwd', ext: '/etc/passwd', slMode: true, hard: true, pipe: true,
      dev: 'EPERM', noDev: true,
    },
  },
  {
    name: '.u Topen with OTRUNC; a directory opened for writing is EISDIR',
    diod: '9P2000.u',
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 't'), 'something');
      const f = await (await dir.walk('t')).open(OWRITE | OTRUNC);
      const size = fs.statSync(path.join(host, 't')).size;
      await f.clunk();
      const d = await dir.walk([]);
      const isdir = await code(d.open(OWRITE));
      await d.clunk();
      return { size, isdir };
    },
    expect: { size: 0, isdir: 'EISDIR' },
  },
  {
    name: '.u wstat: rename, truncate, chmod, mtime; rename onto an existing name replaces it (as Linux mv needs)',
    diod: '9P2000.u',
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'w'), '0123456789');
      fs.writeFileSync(path.join(host, 'taken'), '');
      const f = await dir.walk('w');
      await f.wstat({ name: 'w2' });
      const renamed = fs.existsSync(path.join(host, 'w2')) && !fs.existsSync(path.join(host, 'w'));
      await f.wstat({ length: 4 });
      await f.wstat({ mode: 0o600 });
      await f.wstat({ mtime: 1_500_000_000 });
      const st = fs.statSync(path.join(host, 'w2'));
      const taken = await code(f.wstat({ name: 'taken' }));
      const s = await f.stat();
      await f.clunk();
      return {
        renamed, size: st.size, mode: (st.mode & 0o777).toString(8), mtime: Math.floor(st.mtimeMs / 1000), taken,
        statName: s.name, statLen: s.length, replaced: fs.readFileSync(path.join(host, 'taken'), 'utf8'), gone: !fs.existsSync(path.join(host, 'w2')),
      };
    },
    expect: {
      renamed: true, size: 4, mode: '600', mtime: 1_500_000_000, taken: 'ok', statName: 'taken', statLen: 4, replaced: '0123', gone: true,
    },
  },
  {
    name: '.u directory reads: stat records of every entry, with symlink extensions',
    diod: '9P2000.u',
    async run({ dir, host }) {
      for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(host, `e${i}`), 'x'.repeat(i));
      fs.mkdirSync(path.join(host, 'dd'));
      fs.symlinkSync('e1', path.join(host, 'ln'));
      const list = await dir.list();
      const by = new Map(list.map((e) => [e.name, e.stat!]));
      return {
        count: list.length,
        size: by.get('e250')?.length,
        dir: ((by.get('dd')?.mode ?? 0) & DMDIR) !== 0,
        link: by.get('ln')?.extension,
        noDots: !by.has('.') && !by.has('..'),
      };
    },
    expect: { count: 302, size: 250, dir: true, link: 'e1', noDots: true },
  },
  {
    name: '.u Tremove of a file and of a non-empty directory',
    diod: '9P2000.u',
    async run({ dir, host }) {
      fs.writeFileSync(path.join(host, 'r'), '');
      fs.mkdirSync(path.join(host, 'rd'));
      fs.writeFileSync(path.join(host, 'rd', 'x'), '');
      const r = await dir.walk('r');
      const rd = await dir.walk('rd');
      return {
        file: await code(r.remove()), gone: !fs.existsSync(path.join(host, 'r')),
        dir: await code(rd.remove()), kept: fs.existsSync(path.join(host, 'rd', 'x')),
      };
    },
    expect: { file: 'ok', gone: true, dir: 'ENOTEMPTY', kept: true },
  },
];

import { Errno, NinepError, formatFcall, type Qid } from '@prose/protocol';
import type { Fid } from './fid.js';
import type { Srv } from './srv.js';
import { RawFs } from './test-rawfs.js';
import { Wire, memoryLogger, startPair } from './test-wire.js';

const tree = { '/a': null, '/a/b': null, '/a/b/f': 'x', '/g': 'y' } as const;

async function begin(fs: Srv<any>, version = '9P2000'): Promise<Wire> {
  const { wire } = startPair(fs);
  await wire.version(version);
  await wire.attach(0);
  return wire;
}

describe('Twalk through walk1/clone (walk(5), lib9p swalk/rwalk)', () => {
  test('a full walk makes newfid; its qids are the steps; the Srv saw one walk1 per name', async () => {
    const fs = new RawFs(tree);
    const wire = await begin(fs);
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname [a b f]')).toBe(
      'Rwalk tag 1 wqid [(0000000000000001 0 d) (0000000000000002 0 d) (0000000000000003 0)]',
    );
    expect(fs.log.filter((l) => l.startsWith('walk1'))).toEqual(['walk1 1 / a', 'walk1 1 /a b', 'walk1 1 /a/b f']);
    expect(await wire.rpcText('Tstat tag 2 fid 1')).toMatch(/name f /);
  });

  test('a partial walk answers fewer qids, leaves newfid unused and destroys the scratch fid', async () => {
    const fs = new RawFs(tree);
    const wire = await begin(fs);
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname [a nope f]')).toBe('Rwalk tag 1 wqid [(0000000000000001 0 d)]');
    expect(fs.log).toContain('destroy 1 /a');
    expect(await wire.rpcText('Tclunk tag 2 fid 1')).toBe('Rerror tag 2 ename "unknown fid"');
    expect(await wire.rpcText('Twalk tag 3 fid 0 newfid 1 wname [nope]')).toBe('Rerror tag 3 ename "file not found"');
  });

  test('newfid == fid moves the fid only when the whole walk succeeds; the replaced Fid object is destroyed', async () => {
    const fs = new RawFs(tree);
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname []');
    fs.log.length = 0;
    expect(await wire.rpcText('Twalk tag 2 fid 1 newfid 1 wname [a nope]')).toBe('Rwalk tag 2 wqid [(0000000000000001 0 d)]');
    expect(fs.log).toEqual(['walk1 1 / a', 'walk1 1 /a nope', 'destroy 1 /a']);
    expect(await wire.rpcText('Tstat tag 3 fid 1')).toMatch(/name \/ /);
    fs.log.length = 0;
    expect(await wire.rpcText('Twalk tag 4 fid 1 newfid 1 wname [a b]')).toBe('Rwalk tag 4 wqid [(0000000000000001 0 d) (0000000000000002 0 d)]');
    expect(fs.log).toEqual(['walk1 1 / a', 'walk1 1 /a b', 'destroy 1 /']);
    expect(await wire.rpcText('Tstat tag 5 fid 1')).toMatch(/name b /);
  });

  test('Srv.clone copies per-fid state; walk1 errors after the first name are logged when unexpected', async () => {
    const fs = new RawFs(tree);
    const clones: string[] = [];
    (fs as Srv<string>).clone = (from: Fid<string>, to: Fid<string>) => {
      clones.push(`${from.fid}->${to.fid}`);
      to.aux = from.aux;
    };
    const walk1 = fs.walk1.bind(fs);
    fs.walk1 = (f, name) => {
      if (name === 'crash') throw new TypeError('walk1 bug');
      return walk1(f, name);
    };
    const { logger, lines } = memoryLogger();
    const { wire } = startPair(fs, { logger });
    await wire.version();
    await wire.attach(0);
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname [a crash]')).toBe('Rwalk tag 1 wqid [(0000000000000001 0 d)]');
    expect(clones).toEqual(['0->1']);
    expect(lines.some((l) => l.level === 'error' && String(l.fields?.stack).includes('walk1 bug'))).toBe(true);
  });

  test('walk1 may return its NinepError instead of throwing it, at once or from a promise: the same answers', async () => {
    for (const async of [false, true]) {
      const fs = new RawFs(tree);
      const walk1 = fs.walk1.bind(fs);
      (fs as Srv<string>).walk1 = (f, name) => {
        const e = name === 'denied' ? new NinepError('permission denied', Errno.EACCES) : undefined;
        if (e !== undefined) return async ? Promise.resolve(e) : e;
        return walk1(f, name);
      };
      const wire = await begin(fs, '9P2000.L');
      expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname [denied]')).toBe('Rlerror tag 1 ecode 13');
      expect(await wire.rpcText('Twalk tag 2 fid 0 newfid 1 wname [a denied f]')).toBe('Rwalk tag 2 wqid [(0000000000000001 0 d)]');
      expect(fs.log).toContain('destroy 1 /a');
      expect(await wire.rpcText('Tgetattr tag 3 fid 1 requestMask 0x7ff')).toBe('Rlerror tag 3 ecode 9');
      // The fid walked from is untouched, and newfid is free for the next walk.
      expect(await wire.rpcText('Twalk tag 4 fid 0 newfid 1 wname [a]')).toBe('Rwalk tag 4 wqid [(0000000000000001 0 d)]');
    }
  });

  test('a walk from a file is refused; a clone of a file is allowed; names with "/" stop a walk', async () => {
    const fs = new RawFs(tree);
    const wire = await begin(fs, '9P2000.u');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [g]');
    expect(await wire.rpcText('Twalk tag 2 fid 1 newfid 2 wname [x]')).toBe('Rerror tag 2 ename "walk in non-directory" errno 20');
    expect(await wire.rpcText('Twalk tag 3 fid 1 newfid 2 wname []')).toBe('Rwalk tag 3 wqid []');
    expect(await wire.rpcText('Twalk tag 4 fid 0 newfid 3 wname [a b/f]')).toBe('Rwalk tag 4 wqid [(0000000000000001 0 d)]');
    expect(await wire.rpcText('Twalk tag 5 fid 0 newfid 3 wname [""]')).toBe('Rerror tag 5 ename "bad character in file name" errno 22');
    expect(fs.log.filter((l) => l.startsWith('walk1')).every((l) => !l.includes('b/f'))).toBe(true);
  });

  test('while a walk runs its newfid is reserved: unusable, and not available to another walk', async () => {
    const fs = new RawFs(tree);
    fs.async = true;
    const wire = await begin(fs);
    wire.send('Twalk tag 1 fid 0 newfid 5 wname [a b]');
    wire.send('Twalk tag 2 fid 0 newfid 5 wname [a]');
    wire.send('Tstat tag 3 fid 5');
    expect(formatFcall(await wire.reply(2))).toBe('Rerror tag 2 ename "duplicate fid"');
    expect(formatFcall(await wire.reply(3))).toBe('Rerror tag 3 ename "unknown fid"');
    expect(formatFcall(await wire.reply(1))).toBe('Rwalk tag 1 wqid [(0000000000000001 0 d) (0000000000000002 0 d)]');
    expect(await wire.rpcText('Tstat tag 4 fid 5')).toMatch(/^Rstat tag 4 .* name b /);
  });

  test('a walk still running when a Tversion resets the session never creates its newfid', async () => {
    const fs = new RawFs(tree);
    let release: (() => void) | undefined;
    const walk1 = fs.walk1.bind(fs);
    fs.walk1 = (f, name) => new Promise<Qid>((resolve) => (release = () => resolve(walk1(f, name) as Qid)));
    const wire = await begin(fs);
    wire.send('Twalk tag 1 fid 0 newfid 7 wname [a]');
    await wire.quiet(10);
    expect(await wire.version()).toBe('Rversion tag 65535 msize 8192 version 9P2000');
    await wire.attach(0);
    release!();
    await wire.quiet(10);
    expect(fs.log).toContain('destroy 7 /a');
    expect(await wire.rpcText('Tstat tag 2 fid 7')).toBe('Rerror tag 2 ename "unknown fid"');
  });

  test('a clunk of fid during a newfid == fid walk wins: the fid is not resurrected', async () => {
    const fs = new RawFs(tree);
    let release: (() => void) | undefined;
    const walk1 = fs.walk1.bind(fs);
    fs.walk1 = (f, name) => new Promise<Qid>((resolve) => (release = () => resolve(walk1(f, name) as Qid)));
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname []');
    wire.send('Twalk tag 2 fid 1 newfid 1 wname [a]');
    await wire.quiet(10);
    expect(await wire.rpcText('Tclunk tag 3 fid 1')).toBe('Rclunk tag 3');
    release!();
    expect(formatFcall(await wire.reply(2))).toBe('Rwalk tag 2 wqid [(0000000000000001 0 d)]');
    expect(await wire.rpcText('Tstat tag 4 fid 1')).toBe('Rerror tag 4 ename "unknown fid"');
    await wire.quiet(5);
    expect(fs.log.filter((l) => l.startsWith('destroy 1')).sort()).toEqual(['destroy 1 /', 'destroy 1 /a']);
  });
});

describe('Twalk through Srv.walk (the whole walk at once)', () => {
  test('walk gets the names and a clone; fewer qids mean a partial walk', async () => {
    const calls: string[] = [];
    const srv: Srv<string> = {
      attach: (f) => {
        f.aux = '/';
        return { type: 0x80, version: 0, path: 0n };
      },
      walk: (fid, newfid, names) => {
        calls.push(`${fid.fid}->${newfid.fid} ${names.join('/')} from ${newfid.aux}`);
        const n = names.indexOf('missing');
        const ok = n < 0 ? names : names.slice(0, n);
        newfid.aux = '/' + ok.join('/');
        return ok.map((_, i) => ({ type: 0x80, version: 0, path: BigInt(i + 1) }));
      },
      stat: (f) => ({
        type: 0, dev: 0, qid: f.qid, mode: 0x800001ed, atime: 0, mtime: 0, length: 0, name: f.aux, uid: 'u', gid: 'u', muid: 'u',
      }),
    };
    const wire = await begin(srv);
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname [x y]')).toBe('Rwalk tag 1 wqid [(0000000000000001 0 d) (0000000000000002 0 d)]');
    expect(await wire.rpcText('Tstat tag 2 fid 1')).toMatch(/name \/x\/y /);
    expect(await wire.rpcText('Twalk tag 3 fid 0 newfid 2 wname [x missing z]')).toBe('Rwalk tag 3 wqid [(0000000000000001 0 d)]');
    expect(await wire.rpcText('Twalk tag 4 fid 0 newfid 2 wname [missing]')).toBe('Rerror tag 4 ename "file not found"');
    expect(await wire.rpcText('Twalk tag 5 fid 0 newfid 2 wname [x a/b]')).toBe('Rwalk tag 5 wqid [(0000000000000001 0 d)]');
    expect(calls).toEqual(['0->1 x/y from /', '0->2 x/missing/z from /', '0->2 missing from /', '0->2 x from /']);
  });
});

describe('the defaults of an empty Srv', () => {
  test('attach "" gives a root directory; other anames are refused; walks find nothing; the rest is prohibited', async () => {
    const { wire } = startPair({});
    await wire.version('9P2000.u');
    expect(await wire.attach(0)).toBe('Rattach tag 1 qid (0000000000000000 0 d)');
    expect(await wire.attach(1, 'u', 'other')).toBe('Rerror tag 1 ename "unknown specifier in attach" errno 2');
    expect(await wire.rpcText('Twalk tag 2 fid 0 newfid 1 wname [x]')).toBe('Rerror tag 2 ename "file not found" errno 2');
    expect(await wire.rpcText('Tauth tag 3 afid 5 uname u aname ""')).toBe('Rerror tag 3 ename "authentication not required" errno 22');
    expect(await wire.rpcText('Tstat tag 4 fid 0')).toBe('Rerror tag 4 ename "stat prohibited" errno 1');
    expect(await wire.rpcText('Topen tag 5 fid 0 mode 0')).toBe('Ropen tag 5 qid (0000000000000000 0 d) iounit 8168');
    expect(await wire.rpcText('Tread tag 6 fid 0 offset 0 count 100')).toBe('Rerror tag 6 ename "read prohibited" errno 13');
    expect(await wire.rpcText('Tcreate tag 7 fid 0 name x perm 0644 mode 0')).toBe('Rerror tag 7 ename "fid already open" errno 9');
    expect(await wire.rpcText('Twalk tag 8 fid 0 newfid 1 wname []')).toBe('Rerror tag 8 ename "cannot clone open fid" errno 9');
    expect(await wire.rpcText('Tremove tag 9 fid 0')).toBe('Rerror tag 9 ename "remove prohibited" errno 1');
    expect(await wire.attach(0)).toBe('Rattach tag 1 qid (0000000000000000 0 d)');
    expect(await wire.rpcText('Tcreate tag 10 fid 0 name x perm 0644 mode 0')).toBe('Rerror tag 10 ename "create prohibited" errno 1');
    expect(await wire.rpcText('Twstat tag 11 fid 0 stat {name y}')).toBe('Rerror tag 11 ename "wstat prohibited" errno 1');
  });
});

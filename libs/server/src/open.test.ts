import { DMDIR, Ename, Errno, NinepError, QTAUTH, formatFcall, type Qid } from '@prose/protocol';
import type { Fid } from './fid.js';
import type { Req } from './req.js';
import type { Srv } from './srv.js';
import { RawFs } from './test-rawfs.js';
import { Wire, startPair } from './test-wire.js';

async function begin(fs: Srv<any>, version = '9P2000', uname = 'glenda'): Promise<Wire> {
  const { wire } = startPair(fs);
  await wire.version(version);
  await wire.attach(0, uname);
  return wire;
}

describe('Topen and Tcreate (open(5), lib9p sopen/ropen, screate/rcreate)', () => {
  test('permissions are checked against stat for the fid\'s user, before the Srv sees the open', async () => {
    const fs = new RawFs();
    fs.add('/mine', 'x', 0o600);
    const wire = await begin(fs, '9P2000', 'other');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [mine]');
    fs.log.length = 0;
    expect(await wire.rpcText('Topen tag 2 fid 1 mode 0')).toBe('Rerror tag 2 ename "permission denied"');
    expect(fs.log).toEqual(['stat 1 /mine']);
  });

  test('checkPerm false leaves permissions to the Srv: no stat before open or create', async () => {
    const fs = new RawFs();
    fs.add('/mine', 'x', 0o600);
    Object.assign(fs, { checkPerm: false });
    const wire = await begin(fs, '9P2000', 'other');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [mine]');
    fs.log.length = 0;
    expect(await wire.rpcText('Topen tag 2 fid 1 mode 0')).toBe('Ropen tag 2 qid (0000000000000001 0) iounit 8168');
    expect(fs.log).toEqual(['open 1 /mine 0']);
  });

  test('an open may change the qid: the reply and the fid carry the new one', async () => {
    const fs = new RawFs({ '/clone': '', '/ctl': '' });
    const open = fs.open.bind(fs);
    fs.open = (f: Fid<string>, mode: number) => {
      open(f, mode);
      f.aux = '/ctl';
      return fs.qid('/ctl') as unknown as void;
    };
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [clone]');
    expect(await wire.rpcText('Topen tag 2 fid 1 mode 2')).toBe('Ropen tag 2 qid (0000000000000002 0) iounit 8168');
    expect(await wire.rpcText('Tstat tag 3 fid 1')).toMatch(/qid \(0000000000000002 0\) .* name ctl /);
  });

  test('OTRUNC reaches the Srv in the mode; ORCLOSE removes the file when the fid is clunked, before Rclunk', async () => {
    const fs = new RawFs({ '/f': 'content' });
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    expect(await wire.rpcText('Topen tag 2 fid 1 mode 0121')).toBe('Ropen tag 2 qid (0000000000000001 0) iounit 8168');
    expect(fs.files.get('/f')!.data.length).toBe(0);
    fs.log.length = 0;
    expect(await wire.rpcText('Tclunk tag 3 fid 1')).toBe('Rclunk tag 3');
    expect(fs.log).toEqual(['remove 1 /f', 'destroy 1 /f']);
    expect(fs.files.has('/f')).toBe(false);
  });

  test('an ORCLOSE fid is removed when the session ends too', async () => {
    const fs = new RawFs({ '/f': '' });
    const { wire, server } = startPair(fs);
    await wire.version();
    await wire.attach(0);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 2 fid 1 mode 0100');
    wire.close();
    await server.close();
    expect(fs.files.has('/f')).toBe(false);
  });

  test('a Tremove of an ORCLOSE fid removes once', async () => {
    const fs = new RawFs({ '/f': '' });
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 2 fid 1 mode 0100');
    fs.log.length = 0;
    expect(await wire.rpcText('Tremove tag 3 fid 1')).toBe('Rremove tag 3');
    expect(fs.log).toEqual(['remove 1 /f', 'destroy 1 /f']);
  });

  test('create: perm is masked by the directory, the fid becomes the open new file; extension reaches the Srv in .u', async () => {
    const fs = new RawFs();
    fs.add('/d', null, 0o750);
    const wire = await begin(fs, '9P2000.u');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [d]');
    expect(await wire.rpcText('Tcreate tag 2 fid 1 name f perm 0666 mode 2 extension ext')).toBe('Rcreate tag 2 qid (0000000000000002 0) iounit 8168');
    expect(fs.log).toContain('create 1 /d f 640 2 ext');
    expect(await wire.rpcText('Twrite tag 3 fid 1 offset 0 data "hi"')).toBe('Rwrite tag 3 count 2');
    await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [d]');
    expect(await wire.rpcText(`Tcreate tag 4 fid 2 name sub perm ${'0' + ((DMDIR | 0o777) >>> 0).toString(8)} mode 0`)).toBe('Rcreate tag 4 qid (0000000000000003 0 d) iounit 8168');
    expect(fs.log).toContain('create 2 /d sub 20000000750 0');
  });

  test('a write answered with no count means all of it; read and write count is clamped to the iounit', async () => {
    const fs = new RawFs({ '/f': '' });
    fs.write = () => undefined as unknown as number;
    const counts: number[] = [];
    fs.read = (_f, _o, count) => {
      counts.push(count);
      return Buffer.alloc(0);
    };
    const { wire } = startPair(fs);
    await wire.version('9P2000', 512);
    await wire.attach(0);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 2 fid 1 mode 2');
    expect(await wire.rpcText('Twrite tag 3 fid 1 offset 0 data "abcdef"')).toBe('Rwrite tag 3 count 6');
    await wire.rpc('Tread tag 4 fid 1 offset 0 count 100000');
    expect(counts).toEqual([512 - 24]);
  });
});

describe('Tauth and Tattach with an afid (attach(5))', () => {
  class AuthFs extends RawFs {
    verified = new Set<Fid<string>>();
    auth(afid: Fid<string>): Qid {
      afid.aux = 'auth';
      return { type: QTAUTH, version: 0, path: 99n };
    }
    override read(fid: Fid<string>, offset: number, count: number, req: Req) {
      if (fid.isAuth) return Buffer.from('challenge');
      return super.read(fid, offset, count, req);
    }
    override write(fid: Fid<string>, offset: number, data: Buffer) {
      if (fid.isAuth) {
        if (data.toString() === 'secret') this.verified.add(fid);
        return data.length;
      }
      return super.write(fid, offset, data);
    }
    override attach(fid: Fid<string>, afid: Fid<string> | undefined, req: Req) {
      if (afid === undefined || !this.verified.has(afid)) throw new NinepError(Ename.needauth, Errno.EACCES);
      return super.attach(fid, afid, req);
    }
  }

  test('the auth protocol runs as reads and writes on the afid; attach decides with it', async () => {
    const fs = new AuthFs();
    const { wire } = startPair(fs);
    await wire.version('9P2000.u');
    expect(await wire.rpcText('Tauth tag 1 afid 9 uname glenda aname ""')).toBe('Rauth tag 1 aqid (0000000000000063 0 A)');
    expect(await wire.rpcText('Tattach tag 2 fid 0 afid 9 uname glenda aname ""')).toBe('Rerror tag 2 ename "authentication required" errno 13');
    expect(await wire.rpcText('Tattach tag 2 fid 0 afid NOFID uname glenda aname ""')).toBe('Rerror tag 2 ename "authentication required" errno 13');
    expect(await wire.rpcText('Tread tag 3 fid 9 offset 0 count 100')).toBe('Rread tag 3 data "challenge"');
    expect(await wire.rpcText('Twrite tag 4 fid 9 offset 0 data "secret"')).toBe('Rwrite tag 4 count 6');
    expect(await wire.rpcText('Tattach tag 5 fid 0 afid 9 uname glenda aname ""')).toBe('Rattach tag 5 qid (0000000000000000 0 d)');
    expect(fs.log).toContain('attach 0 glenda  afid 9');
    expect(await wire.rpcText('Twalk tag 6 fid 9 newfid 1 wname [x]')).toBe('Rerror tag 6 ename "cannot clone open fid" errno 9');
    expect(await wire.rpcText('Tauth tag 7 afid 9 uname glenda aname ""')).toBe('Rerror tag 7 ename "duplicate fid" errno 9');
    expect(await wire.rpcText('Tclunk tag 8 fid 9')).toBe('Rclunk tag 8');
    expect(formatFcall(await wire.rpc('Tstat tag 9 fid 0'))).toMatch(/^Rstat tag 9 /);
  });
});

describe('concurrent opens', () => {
  test('a second Topen of a fid while the first is under way is "fid already open"', async () => {
    const fs = new RawFs({ '/f': 'x' });
    fs.async = true;
    const wire = await begin(fs);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    wire.send('Topen tag 2 fid 1 mode 0');
    wire.send('Topen tag 3 fid 1 mode 0');
    expect(formatFcall(await wire.reply(3))).toBe('Rerror tag 3 ename "fid already open"');
    expect(formatFcall(await wire.reply(2))).toBe('Ropen tag 2 qid (0000000000000001 0) iounit 8168');
    expect(fs.log.filter((l) => l.startsWith('open'))).toEqual(['open 1 /f 0']);
  });
});

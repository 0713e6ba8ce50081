import { DMAPPEND, MsgType, formatFcall, unpackDirents, unpackDirs, type Fcall } from '@prose/protocol';
import { ReadQueue } from './blocking.js';
import { DirNode, FileNode, dir, dynamicDir, file, textFile, type Node } from './node.js';
import { readStr } from './read-helpers.js';
import { ramFile } from './test-ramfs.js';
import { Wire, startPair } from './test-wire.js';
import { Tree } from './tree.js';

async function begin(tree: Tree, version = '9P2000', uname = 'glenda', aname = ''): Promise<Wire> {
  const { wire } = startPair(tree);
  await wire.version(version);
  expect(await wire.attach(0, uname, aname)).toMatch(/^Rattach/);
  return wire;
}

function data(f: Fcall): Buffer {
  if (f.type !== MsgType.Rread && f.type !== MsgType.Rreaddir) throw new Error(formatFcall(f));
  return f.data;
}

async function readAll(wire: Wire, path: string[], fid = 50): Promise<string> {
  await wire.rpc(`Twalk tag 1 fid 0 newfid ${fid} wname [${path.join(' ')}]`);
  await wire.rpc(`Topen tag 1 fid ${fid} mode 0`);
  const out = data(await wire.rpc(`Tread tag 1 fid ${fid} offset 0 count 8000`)).toString();
  await wire.rpc(`Tclunk tag 1 fid ${fid}`);
  return out;
}

describe('a tree of synthetic files', () => {
  test('qid paths are given in tree order when the Tree is made; directories carry QTDIR', async () => {
    const tree = new Tree(dir('/', [textFile('a', () => 'A'), dir('d', [textFile('b', () => 'B')]), textFile('c', () => 'C')]));
    const wire = await begin(tree);
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname [d b]')).toBe('Rwalk tag 1 wqid [(0000000000000002 0 d) (0000000000000003 0)]');
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 2 wname [c]')).toBe('Rwalk tag 1 wqid [(0000000000000004 0)]');
    expect(await readAll(wire, ['d', 'b'])).toBe('B');
    expect(await wire.rpcText('Tstat tag 2 fid 1')).toMatch(/^Rstat tag 2 stat \{type 0 dev 0 qid \(0000000000000003 0\) mode 0444 atime \d+ mtime \d+ length 0 name b uid prose gid prose muid prose\}$/);
  });

  test('content is sliced by offset and count; read may answer a string or a promise', async () => {
    const tree = new Tree(dir('/', [
      textFile('text', () => 'hello, world'),
      file('async', { read: async (_h, off, n) => readStr(off, n, 'later') }),
      file('bytes', { content: () => Buffer.from([1, 2, 3, 4]) }),
    ]));
    const wire = await begin(tree);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [text]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    expect(await wire.rpcText('Tread tag 2 fid 1 offset 7 count 3')).toBe('Rread tag 2 data "wor"');
    expect(await wire.rpcText('Tread tag 2 fid 1 offset 70 count 3')).toBe('Rread tag 2 data ""');
    expect(await readAll(wire, ['async'])).toBe('later');
    await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [bytes]');
    await wire.rpc('Topen tag 1 fid 2 mode 0');
    expect(await wire.rpcText('Tread tag 2 fid 2 offset 1 count 2')).toBe('Rread tag 2 data "\\u0002\\u0003"');
  });

  test('generated children are listed after the static ones and found by walk', async () => {
    let names = ['x', 'y'];
    const made: string[] = [];
    const d = dir('gen', [textFile('static', () => '')], {
      list: async () => names.map((n) => {
        made.push(n);
        return textFile(n, () => n);
      }),
    });
    const tree = new Tree(dir('/', [d]));
    const wire = await begin(tree, '9P2000.u');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [gen]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    const dirs = unpackDirs(data(await wire.rpc('Tread tag 2 fid 1 offset 0 count 8000')), '9P2000.u');
    expect(dirs.map((x) => x.name)).toEqual(['static', 'x', 'y']);
    expect(await readAll(wire, ['gen', 'y'])).toBe('y');
    names = ['z'];
    expect(await wire.rpcText('Twalk tag 3 fid 0 newfid 2 wname [gen x]')).toBe('Rwalk tag 3 wqid [(0000000000000001 0 d)]');
    expect(made.length).toBeGreaterThan(0);
  });

  test('dynamicDir keeps one node, and so one qid, per key while the key exists', async () => {
    let keys = ['1', '2'];
    const tree = new Tree(dir('/', [dynamicDir('proc', () => keys, (k) => textFile(k, () => `proc ${k}`))]));
    const wire = await begin(tree, '9P2000.L');
    const walked = async (fid: number, name: string) => {
      const r = await wire.rpc(`Twalk tag 1 fid 0 newfid ${fid} wname [proc ${name}]`);
      if (r.type !== MsgType.Rwalk) throw new Error(formatFcall(r));
      return r.wqid;
    };
    const first = (await walked(1, '2'))[1];
    expect((await walked(2, '2'))[1]).toEqual(first);
    await wire.rpc('Twalk tag 1 fid 0 newfid 3 wname [proc]');
    await wire.rpc('Tlopen tag 1 fid 3 flags 0');
    const ents = unpackDirents(data(await wire.rpc('Treaddir tag 2 fid 3 offset 0 count 8000')));
    expect(ents.map((e) => e.name)).toEqual(['1', '2']);
    expect(ents[1]!.qid).toEqual(first);
    keys = ['2', '3'];
    expect((await walked(4, '1')).length).toBe(1);
    expect((await walked(4, '2'))[1]).toEqual(first);
    expect(await readAll(wire, ['proc', '3'])).toBe('proc 3');
  });

  test('per-open state: open sets h.state, reads see it, close gets it back on clunk and on hang-up', async () => {
    const closed: string[] = [];
    let opens = 0;
    const counter = file<{ n: number; who: string }>('counter', {
      open: (h) => {
        h.state = { n: ++opens * 100, who: h.uname };
      },
      read: (h) => `${h.state!.who}:${h.state!.n++}`,
      close: (h) => void closed.push(`${h.state!.who}:${h.state!.n}`),
    });
    const tree = new Tree(dir('/', [counter]));
    const { wire, server } = startPair(tree);
    await wire.version();
    await wire.attach(0, 'ann');
    await wire.attach(1, 'bob');
    await wire.rpc('Twalk tag 1 fid 0 newfid 10 wname [counter]');
    await wire.rpc('Twalk tag 1 fid 1 newfid 11 wname [counter]');
    await wire.rpc('Topen tag 1 fid 10 mode 0');
    await wire.rpc('Topen tag 1 fid 11 mode 0');
    expect(await wire.rpcText('Tread tag 2 fid 10 offset 0 count 100')).toBe('Rread tag 2 data "ann:100"');
    expect(await wire.rpcText('Tread tag 2 fid 11 offset 0 count 100')).toBe('Rread tag 2 data "bob:200"');
    expect(await wire.rpcText('Tread tag 2 fid 10 offset 0 count 100')).toBe('Rread tag 2 data "ann:101"');
    await wire.rpc('Tclunk tag 3 fid 10');
    expect(closed).toEqual(['ann:102']);
    wire.close();
    await server.close();
    expect(closed).toEqual(['ann:102', 'bob:201']);
  });

  test('a read that blocks until data is ready is cancelled by a flush', async () => {
    const q = new ReadQueue();
    const tree = new Tree(dir('/', [
      file('data', { read: (_h, _o, n, req) => q.read(n, req.signal), write: (_h, _o, d) => q.put(d) }, { perm: 0o666 }),
    ]));
    const wire = await begin(tree);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [data]');
    await wire.rpc('Topen tag 1 fid 1 mode 2');
    wire.send('Tread tag 5 fid 1 offset 0 count 100');
    expect(await wire.quiet(20)).toBe(true);
    expect(q.waiting).toBe(1);
    expect(await wire.rpcText('Tflush tag 6 oldtag 5')).toBe('Rflush tag 6');
    expect(q.waiting).toBe(0);
    wire.send('Tread tag 7 fid 1 offset 0 count 100');
    await wire.quiet(10);
    expect(await wire.rpcText('Twrite tag 8 fid 1 offset 0 data "ping"')).toBe('Rwrite tag 8 count 4');
    expect(formatFcall(await wire.reply(7))).toBe('Rread tag 7 data "ping"');
  });

  test('walking needs search (exec) permission on each directory', async () => {
    const tree = new Tree(dir('/', [dir('private', [textFile('f', () => '')], { perm: 0o700, uid: 'glenda' })], { perm: 0o755 }));
    const other = await begin(tree, '9P2000', 'other');
    expect(await other.rpcText('Twalk tag 1 fid 0 newfid 1 wname [private f]')).toBe('Rwalk tag 1 wqid [(0000000000000001 0 d)]');
    expect(await other.rpcText('Twalk tag 1 fid 0 newfid 1 wname [private]')).toBe('Rwalk tag 1 wqid [(0000000000000001 0 d)]');
    expect(await other.rpcText('Twalk tag 2 fid 1 newfid 2 wname [f]')).toBe('Rerror tag 2 ename "permission denied"');
    const owner = await begin(tree, '9P2000', 'glenda');
    expect(await owner.rpcText('Twalk tag 1 fid 0 newfid 1 wname [private f]')).toBe('Rwalk tag 1 wqid [(0000000000000001 0 d) (0000000000000002 0)]');
  });

  test('anames select other roots', async () => {
    const tree = new Tree(dir('/', []), { anames: { ctl: dir('/', [textFile('version', () => '1')]) } });
    const { wire } = startPair(tree);
    await wire.version();
    expect(await wire.attach(0, 'u', 'ctl')).toBe('Rattach tag 1 qid (0000000000000001 0 d)');
    expect(await wire.attach(1, 'u', '')).toBe('Rattach tag 1 qid (0000000000000000 0 d)');
    expect(await wire.attach(2, 'u', 'nope')).toBe('Rerror tag 1 ename "unknown specifier in attach"');
    expect(await readAll(wire, ['version'])).toBe('1');
  });

  test('an open may hand the fid to another node (the clone file pattern)', async () => {
    const target = textFile('target', () => 'redirected');
    const tree = new Tree(dir('/', [file('door', { open: () => target }), target]));
    const wire = await begin(tree);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [door]');
    expect(await wire.rpcText('Topen tag 2 fid 1 mode 0')).toBe('Ropen tag 2 qid (0000000000000002 0) iounit 8168');
    expect(await wire.rpcText('Tread tag 3 fid 1 offset 0 count 100')).toBe('Rread tag 3 data "redirected"');
  });

  test('OTRUNC calls truncate; DMAPPEND files take writes at the end', async () => {
    const log = ramFile('log', 'old ');
    log.setMode(DMAPPEND | 0o666);
    const f = ramFile('f', 'content');
    f.setMode(0o666);
    const tree = new Tree(dir('/', [log, f]));
    const wire = await begin(tree);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [log]');
    expect(await wire.rpcText('Topen tag 2 fid 1 mode 2')).toBe('Ropen tag 2 qid (0000000000000001 0 a) iounit 8168');
    expect(await wire.rpcText('Twrite tag 3 fid 1 offset 0 data "new"')).toBe('Rwrite tag 3 count 3');
    expect(await wire.rpcText('Tread tag 4 fid 1 offset 0 count 100')).toBe('Rread tag 4 data "old new"');
    await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [f]');
    await wire.rpc('Topen tag 2 fid 2 mode 021');
    expect(await readAll(wire, ['f'])).toBe('');
  });

  test('.L O_APPEND writes go to the end too', async () => {
    const f = ramFile('f', 'abc');
    f.setMode(0o666);
    const wire = await begin(new Tree(dir('/', [f])), '9P2000.L');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc(`Tlopen tag 2 fid 1 flags 0${(0o2000 | 0o2).toString(8)}`);
    expect(await wire.rpcText('Twrite tag 3 fid 1 offset 0 data "def"')).toBe('Rwrite tag 3 count 3');
    expect(await wire.rpcText('Tread tag 4 fid 1 offset 0 count 10')).toBe('Rread tag 4 data "abcdef"');
  });

  test('remove: a file may refuse; generated and non-empty directories stay; creation needs a create hook', async () => {
    const keep = file('keep', {
      remove: () => {
        throw new Error('nope');
      },
    });
    const tree = new Tree(dir('/', [keep, ramFile('gone'), dir('gen', [], { perm: 0o777, list: () => [textFile('g', () => '')] })], { perm: 0o777 }));
    const wire = await begin(tree, '9P2000.u');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [keep]');
    expect(await wire.rpcText('Tremove tag 2 fid 1')).toBe('Rerror tag 2 ename "i/o error" errno 5');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [gone]');
    expect(await wire.rpcText('Tremove tag 3 fid 1')).toBe('Rremove tag 3');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [gen g]');
    expect(await wire.rpcText('Tremove tag 4 fid 1')).toBe('Rerror tag 4 ename "remove prohibited" errno 1');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname []');
    expect(await wire.rpcText('Tcreate tag 5 fid 1 name x perm 0644 mode 0')).toBe('Rerror tag 5 ename "create prohibited" errno 1');
  });

  test('FileNode permissions default from its callbacks; .L getattr reports numeric ids', async () => {
    const ro = textFile('ro', () => '');
    const wo = file('wo', { write: () => undefined });
    const rw = file('rw', { read: () => '', write: () => undefined }, { nUid: 1000, nGid: 100 });
    expect([ro.mode, wo.mode, rw.mode].map((m) => m.toString(8))).toEqual(['444', '222', '666']);
    const tree = new Tree(dir('/', [ro, wo, rw]));
    const wire = await begin(tree, '9P2000.L');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [rw]');
    expect(await wire.rpcText('Tgetattr tag 2 fid 1 requestMask 0x3fff')).toMatch(/ mode 0100666 uid 1000 gid 100 nlink 1 /);
  });

  test('nodes can be added and removed while the tree is served; their qids are new and lasting', async () => {
    const root = dir('/', []);
    const tree = new Tree(root);
    const wire = await begin(tree);
    const late: Node = root.add(textFile('late', () => 'here'));
    expect(late.qid.path).toBe(1n);
    expect(root.qid.version).toBe(1);
    expect(await readAll(wire, ['late'])).toBe('here');
    root.remove('late');
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname [late]')).toBe('Rerror tag 1 ename "file not found"');
    expect(root.qid.version).toBe(2);
    expect(late).toBeInstanceOf(FileNode);
    expect(root).toBeInstanceOf(DirNode);
  });
});

import { DirentList, MsgType, formatFcall, unpackDirents, unpackDirs, type Dir, type Dirent, type Fcall } from '@prose/protocol';
import type { Srv } from './srv.js';
import { RawFs } from './test-rawfs.js';
import { Wire, startPair } from './test-wire.js';

function bigDir(n: number): RawFs {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`/f${String(i).padStart(3, '0')}`] = 'x'.repeat(i);
  return new RawFs(files);
}

async function openRoot(wire: Wire, version: string): Promise<void> {
  await wire.version(version);
  await wire.attach(0);
  await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname []');
  await wire.rpc(version === '9P2000.L' ? 'Tlopen tag 1 fid 1 flags 0' : 'Topen tag 1 fid 1 mode 0');
}

function data(f: Fcall): Buffer {
  if (f.type !== MsgType.Rread && f.type !== MsgType.Rreaddir) throw new Error(`not a read reply: ${f.type}`);
  return f.data;
}

describe('9P2000/.u directory reads (read(5))', () => {
  test.each(['9P2000', '9P2000.u'] as const)('%s: a large directory comes in whole stat records, read after read', async (dialect) => {
    const { wire } = startPair(bigDir(200));
    await openRoot(wire, dialect);
    const names: string[] = [];
    let offset = 0;
    let reads = 0;
    for (;;) {
      const d = data(await wire.rpc(`Tread tag 2 fid 1 offset ${offset} count 1000`));
      if (d.length === 0) break;
      expect(d.length).toBeLessThanOrEqual(1000);
      const dirs: Dir[] = unpackDirs(d, dialect);
      names.push(...dirs.map((x) => x.name));
      offset += d.length;
      reads++;
    }
    expect(reads).toBeGreaterThan(10);
    expect(names).toEqual([...Array(200).keys()].map((i) => `f${String(i).padStart(3, '0')}`));
    const all = data(await wire.rpc('Tread tag 3 fid 1 offset 0 count 8168'));
    expect(unpackDirs(all, dialect)[0]!.name).toBe('f000');
  });

  test('without dirgen, directory reads go to read(), after the framework has checked the offset', async () => {
    const seen: number[] = [];
    const srv: Srv<string> = {
      attach: () => ({ type: 0x80, version: 0, path: 0n }),
      read: (_f, offset) => {
        seen.push(offset);
        return Buffer.alloc(offset < 20 ? 10 : 0, 1);
      },
    };
    const { wire } = startPair(srv);
    await openRoot(wire, '9P2000');
    expect(data(await wire.rpc('Tread tag 2 fid 1 offset 0 count 100')).length).toBe(10);
    expect(data(await wire.rpc('Tread tag 2 fid 1 offset 10 count 100')).length).toBe(10);
    expect(await wire.rpcText('Tread tag 2 fid 1 offset 15 count 100')).toBe('Rerror tag 2 ename "bad offset in directory read"');
    expect(data(await wire.rpc('Tread tag 2 fid 1 offset 20 count 100')).length).toBe(0);
    expect(seen).toEqual([0, 10, 20]);
  });
});

describe('9P2000.L Treaddir', () => {
  test('from dirgen: cookies continue where the last entry ended', async () => {
    const { wire } = startPair(bigDir(50));
    await openRoot(wire, '9P2000.L');
    const names: string[] = [];
    let cookie = 0;
    for (;;) {
      const ents: Dirent[] = unpackDirents(data(await wire.rpc(`Treaddir tag 2 fid 1 offset ${cookie} count 300`)));
      if (ents.length === 0) break;
      names.push(...ents.map((e) => e.name));
      cookie = ents[ents.length - 1]!.offset;
    }
    expect(names.length).toBe(50);
    expect(names[49]).toBe('f049');
    expect(data(await wire.rpc('Treaddir tag 3 fid 1 offset 1000 count 300')).length).toBe(0);
  });

  test('from Srv.readdir: only whole entries that fit are sent; 64-bit cookies pass through exactly', async () => {
    const big = 0x7fff_ffff_ffff_fff0n;
    const asked: Array<[number, bigint | undefined]> = [];
    const srv: Srv<string> = {
      attach: () => ({ type: 0x80, version: 0, path: 0n }),
      readdir: (_f, offset, _count, req) => {
        asked.push([offset, (req.ifcall as { cookie?: bigint }).cookie]);
        return [0, 1, 2, 3, 4].map((i) => ({
          qid: { type: 0, version: 0, path: BigInt(i) }, offset: Number(big) + i, cookie: big + BigInt(i), type: 8, name: `e${i}`,
        }));
      },
    };
    const { wire } = startPair(srv);
    await openRoot(wire, '9P2000.L');
    const ents = unpackDirents(data(await wire.rpc('Treaddir tag 2 fid 1 offset 0 count 80')));
    expect(ents.map((e) => e.name)).toEqual(['e0', 'e1', 'e2']);
    expect(ents[2]!.cookie).toBe(big + 2n);
    wire.send({ type: MsgType.Treaddir, tag: 3, fid: 1, offset: Number(big + 2n), cookie: big + 2n, count: 80 });
    await wire.reply(3);
    expect(asked).toEqual([[0, undefined], [Number(big + 2n), big + 2n]]);
    expect(await wire.rpcText('Treaddir tag 4 fid 1 offset 0 count 20')).toBe('Rlerror tag 4 ecode 22');
  });

  test('encoded dirents from Srv.readdir: the same replies, byte for byte, as Dirent objects, at every count and cookie', async () => {
    const ents: Dirent[] = ['.', '..', 'a', 'ünïcödé', 'long-'.repeat(20), '😀', 'z'].map((name, i) => ({
      qid: { type: i < 2 ? 0x80 : 0, version: i, path: BigInt(i) * 0x1_0000_0003n }, offset: i + 1, type: i < 2 ? 4 : 8, name,
    }));
    const list = new DirentList();
    for (const e of ents) list.push(e);
    const objects: Srv<string> = { attach: () => ({ type: 0x80, version: 0, path: 0n }), readdir: (_f, offset) => ents.slice(offset) };
    // The whole rest, uncut: the framework cuts it to count.
    const whole: Srv<string> = {
      attach: () => ({ type: 0x80, version: 0, path: 0n }), readdir: (_f, offset) => list.bytes(Math.min(offset, list.length), list.length),
    };
    // Already cut to count by the Srv (at least one entry, as storage does).
    const cut: Srv<string> = {
      attach: () => ({ type: 0x80, version: 0, path: 0n }),
      readdir: (_f, offset, count) => {
        if (offset >= list.length) return Buffer.alloc(0);
        return list.bytes(offset, Math.max(offset + 1, list.fit(offset, count)));
      },
    };
    const wires = [objects, whole, cut].map((srv) => startPair(srv).wire);
    for (const w of wires) await openRoot(w, '9P2000.L');
    for (let cookie = 0; cookie <= ents.length + 1; cookie++) {
      for (let count = 0; count <= list.byteLength + 1; count++) {
        const replies = [];
        for (const w of wires) replies.push(formatFcall(await w.rpc(`Treaddir tag 2 fid 1 offset ${cookie} count ${count}`)));
        expect(replies[1]).toBe(replies[0]);
        expect(replies[2]).toBe(replies[0]);
      }
    }
    // A count that fits no entry is EINVAL; past the end is an empty reply.
    expect(await wires[1]!.rpcText('Treaddir tag 4 fid 1 offset 0 count 20')).toBe('Rlerror tag 4 ecode 22');
    expect(data(await wires[1]!.rpc('Treaddir tag 4 fid 1 offset 7 count 20')).length).toBe(0);
  });
});

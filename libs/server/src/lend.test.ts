/**
 * Big Twrites lent in place over a socket (ListenOptions.lendFrames): `data` stays intact until
 * the write callback's promise settles, however many arrive meanwhile, and every byte written
 * is the byte sent.
 */
import { MsgType, type Fcall } from '@prose/protocol';
import { dial } from '@prose/transport';
import { Server } from './server.js';
import { silentLogger } from './options.js';
import { Tree } from './tree.js';
import { dir, file } from './node.js';
import { Wire } from './test-wire.js';

test('lent Twrite data stays valid until the write settles, with many in flight', async () => {
  const seen: string[] = [];
  const tree = new Tree(dir('/', [file('sink', {
    write: async (_h, off, data) => {
      const before = data.toString('latin1', 0, 16);
      // Other big Twrites arrive while this one waits: they must not land in its buffer.
      await new Promise((r) => setTimeout(r, 2));
      const fill = off & 0xff;
      seen.push(`${off} ${data.length} ${data.every((x) => x === fill) && before === data.toString('latin1', 0, 16)}`);
      return data.length;
    },
  }, { perm: 0o666 })]));
  const server = new Server(tree, { logger: silentLogger });
  const l = await server.listen('tcp!127.0.0.1!0', { lendFrames: true });
  const wire = new Wire(await dial(l.addr));
  try {
    await wire.version('9P2000.L', 1 << 20);
    await wire.attach(0);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [sink]');
    await wire.rpc('Tlopen tag 1 fid 1 flags 1');
    const sizes = [70000, 100, 300000, 65536, 20000, 70000, 500000, 17];
    sizes.forEach((n, i) => wire.send({ type: MsgType.Twrite, tag: 10 + i, fid: 1, offset: i, data: Buffer.alloc(n, i) } as Fcall));
    for (let i = 0; i < sizes.length; i++) {
      expect(await wire.reply(10 + i)).toMatchObject({ type: MsgType.Rwrite, count: sizes[i] });
    }
    expect(seen.sort()).toEqual(sizes.map((n, i) => `${i} ${n} true`).sort());
  } finally {
    wire.close();
    await server.close({ timeoutMs: 100 });
  }
});

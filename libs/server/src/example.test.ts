/** The README's example service, served and used. */
import { formatFcall } from '@prose/protocol';
import { CloneDir, ReadQueue, Tree, dir, file, instanceCtl, textFile } from './index.js';
import { startPair } from './test-wire.js';

function service(): Tree {
  const input = new ReadQueue();
  return new Tree(dir('/', [
    textFile('sysname', () => 'gnot\n'),
    file('cons', {
      read: (_h, _off, n, req) => input.read(n, req.signal),
      write: (_h, _off, data) => void input.put(data),
    }, { perm: 0o666 }),
    new CloneDir('conv', {
      instance: () => ({ said: '' }),
      files: (inst) => [
        instanceCtl(inst, [{ name: 'echo', args: [1, 3], run: (a) => void (inst.state.said = a.join(' ')) }]),
        file('data', { content: () => inst.state.said }),
      ],
    }),
  ]));
}

test('the README service works in a few lines', async () => {
  const { wire } = startPair(service());
  await wire.version('9P2000.L');
  await wire.attach(0);
  await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [sysname]');
  await wire.rpc('Tlopen tag 1 fid 1 flags 0');
  expect(await wire.rpcText('Tread tag 2 fid 1 offset 0 count 100')).toBe('Rread tag 2 data "gnot\\n"');
  await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [cons]');
  await wire.rpc('Tlopen tag 1 fid 2 flags 2');
  wire.send('Tread tag 3 fid 2 offset 0 count 100');
  expect(await wire.quiet(10)).toBe(true);
  expect(await wire.rpcText('Twrite tag 4 fid 2 offset 0 data "typed\\n"')).toBe('Rwrite tag 4 count 6');
  expect(formatFcall(await wire.reply(3))).toBe('Rread tag 3 data "typed\\n"');
  await wire.rpc('Twalk tag 1 fid 0 newfid 3 wname [conv clone]');
  await wire.rpc('Tlopen tag 1 fid 3 flags 2');
  expect(await wire.rpcText('Tread tag 5 fid 3 offset 0 count 10')).toBe('Rread tag 5 data "0"');
  await wire.rpc('Twrite tag 6 fid 3 offset 0 data "echo hi there"');
  await wire.rpc('Twalk tag 1 fid 0 newfid 4 wname [conv 0 data]');
  await wire.rpc('Tlopen tag 1 fid 4 flags 0');
  expect(await wire.rpcText('Tread tag 7 fid 4 offset 0 count 100')).toBe('Rread tag 7 data "hi there"');
});

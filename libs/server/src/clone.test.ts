import { formatFcall } from '@prose/protocol';
import { CloneDir, instanceCtl, type Instance } from './clone.js';
import { dir, file } from './node.js';
import { Wire, startPair } from './test-wire.js';
import { Tree } from './tree.js';

interface Conn {
  peer: string;
  log: string[];
}

function netTree(opts: { keep?: boolean; refuse?: boolean } = {}) {
  const closed: number[] = [];
  const tcp: CloneDir<Conn> = new CloneDir<Conn>('tcp', {
    instance: (n) => {
      if (opts.refuse) throw new Error('no more');
      return { peer: '', log: [`made ${n}`] };
    },
    files: (inst: Instance<Conn>) => [
      instanceCtl(inst, [
        { name: 'connect', args: [1, 2], run: ([addr]) => void (inst.state.peer = addr!) },
        { name: 'hangup', args: 0, run: () => void inst.remove() },
      ]),
      file('remote', { content: () => `${inst.state.peer}\n` }),
    ],
    close: (inst) => void closed.push(inst.n),
    keep: opts.keep,
    children: [file('stats', { content: (): string => `conns ${tcp.instances.size}\n` })],
  });
  return { tree: new Tree(dir('/', [dir('net', [tcp])])), tcp, closed };
}

async function openClone(wire: Wire, fid: number): Promise<string> {
  await wire.rpc(`Twalk tag 1 fid 0 newfid ${fid} wname [net tcp clone]`);
  expect(await wire.rpcText(`Topen tag 1 fid ${fid} mode 2`)).toMatch(/^Ropen/);
  return formatFcall(await wire.rpc(`Tread tag 1 fid ${fid} offset 0 count 100`));
}

describe('clone directories (ip(3))', () => {
  test('opening clone makes instance N; the fid is its ctl; ctl reads N and runs commands', async () => {
    const { tree, tcp } = netTree();
    const { wire } = startPair(tree);
    await wire.version();
    await wire.attach(0);
    expect(await openClone(wire, 1)).toBe('Rread tag 1 data "0"');
    expect(await openClone(wire, 2)).toBe('Rread tag 1 data "1"');
    expect([...tcp.instances.keys()]).toEqual([0, 1]);
    expect(await wire.rpcText('Twrite tag 2 fid 1 offset 0 data "connect 10.0.0.1!80"')).toBe('Rwrite tag 2 count 19');
    await wire.rpc('Twalk tag 3 fid 0 newfid 3 wname [net tcp 0 remote]');
    await wire.rpc('Topen tag 3 fid 3 mode 0');
    expect(await wire.rpcText('Tread tag 4 fid 3 offset 0 count 100')).toBe('Rread tag 4 data "10.0.0.1!80\\n"');
    expect(await wire.rpcText('Twrite tag 5 fid 1 offset 0 data "connect"')).toBe('Rerror tag 5 ename "bad ctl message: connect wants 1 to 2 arguments: \\"connect\\""');
    await wire.rpc('Twalk tag 6 fid 0 newfid 4 wname [net tcp stats]');
    await wire.rpc('Topen tag 6 fid 4 mode 0');
    expect(await wire.rpcText('Tread tag 6 fid 4 offset 0 count 100')).toBe('Rread tag 6 data "conns 2\\n"');
  });

  test('an instance lives while any of its files is open; then close runs and the directory goes; numbers are reused', async () => {
    const { tree, tcp, closed } = netTree();
    const { wire } = startPair(tree);
    await wire.version();
    await wire.attach(0);
    await openClone(wire, 1);
    await wire.rpc('Twalk tag 2 fid 0 newfid 2 wname [net tcp 0 remote]');
    await wire.rpc('Topen tag 2 fid 2 mode 0');
    await wire.rpc('Tclunk tag 3 fid 1');
    expect(closed).toEqual([]);
    expect(tcp.instances.has(0)).toBe(true);
    await wire.rpc('Tclunk tag 4 fid 2');
    expect(closed).toEqual([0]);
    expect(await wire.rpcText('Twalk tag 5 fid 0 newfid 3 wname [net tcp 0]')).toBe('Rwalk tag 5 wqid [(0000000000000001 0 d) (0000000000000002 2 d)]');
    expect(await openClone(wire, 4)).toBe('Rread tag 1 data "0"');
  });

  test('keep: the directory stays after the last close, until the instance removes itself', async () => {
    const { tree, tcp, closed } = netTree({ keep: true });
    const { wire } = startPair(tree);
    await wire.version();
    await wire.attach(0);
    await openClone(wire, 1);
    await wire.rpc('Tclunk tag 2 fid 1');
    expect(closed).toEqual([0]);
    expect(await wire.rpcText('Twalk tag 3 fid 0 newfid 2 wname [net tcp 0 ctl]')).toMatch(/^Rwalk tag 3 wqid \[(\([^)]*\) ?){4}\]$/);
    await wire.rpc('Topen tag 4 fid 2 mode 2');
    expect(await wire.rpcText('Twrite tag 5 fid 2 offset 0 data "hangup"')).toBe('Rwrite tag 5 count 6');
    expect(tcp.instances.size).toBe(0);
    expect(await wire.rpcText('Twalk tag 6 fid 0 newfid 3 wname [net tcp 0]')).toMatch(/^Rwalk tag 6 wqid \[(\([^)]*\) ?){2}\]$/);
  });

  test('an instance that cannot be made fails the open and leaves nothing behind', async () => {
    const { tree, tcp } = netTree({ refuse: true });
    const { wire } = startPair(tree);
    await wire.version('9P2000.u');
    await wire.attach(0);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [net tcp clone]');
    expect(await wire.rpcText('Topen tag 2 fid 1 mode 2')).toBe('Rerror tag 2 ename "i/o error" errno 5');
    expect(tcp.instances.size).toBe(0);
    expect(tcp.size).toBe(2);
  });
});

/**
 * The server under test of the conformance transcripts: the example ramfs plus a few synthetic
 * files, all built with @prose/server.
 *
 *   /readme      ram file "hello, world\n" (0644 glenda)
 *   /ro          ram file "read only\n" (0444 glenda)
 *   /exe         ram file "#!/bin/rc\n" (0755 glenda)
 *   /dir/        ram directory (0755) holding a (6 bytes), b (empty), sub/ (empty)
 *   /block       read blocks until flushed, or until a write to /release (answers what was written)
 *   /stubborn    read blocks until a write to /release, ignoring flushes (a real result after a flush)
 *   /release     write: wakes every blocked read of /block and /stubborn with the data written
 *   /null        reads give end of file, writes vanish (0666)
 *   /conv/       ip(3)-style clone directory: clone, N/ctl (reads N; "echo word..." and "hangup"
 *                commands, "echo" takes 1 to 3 arguments), N/data (reads what echo said)
 */
import type { Conn } from '@prose/transport';
import {
  CloneDir, DirNode, FileNode, Server, Waiters, file, instanceCtl, silentLogger, type Cmdtab, type CtlCall, type Node,
} from '@prose/server';
import { ramDir, ramFile, ramfs } from '../../libs/server/src/test-ramfs.js';
import { Wire } from '../../libs/server/src/test-wire.js';
import { runSteps, type Step } from './transcript.js';

function filled(name: string, text: string, perm: number): FileNode {
  const f = ramFile(name, text);
  f.setMode(perm);
  f.uid = f.gid = f.muid = 'glenda';
  return f;
}

interface Conv {
  said: string;
}

export function conformanceTree() {
  const gate = new Waiters<string>();
  const dirNode = new DirNode('dir', [filled('a', 'abcdef', 0o644), filled('b', '', 0o644)], {
    ...ramDir, perm: 0o755, uid: 'glenda',
  });
  dirNode.add(new DirNode('sub', [], { perm: 0o755, uid: 'glenda' }));
  const conv = new CloneDir<Conv>('conv', {
    instance: () => ({ said: '' }),
    files: (inst) => [
      instanceCtl(inst, convCommands(inst.state)),
      file('data', { content: () => inst.state.said }, { perm: 0o444 }),
    ],
  });
  const children: Node[] = [
    filled('readme', 'hello, world\n', 0o644),
    filled('ro', 'read only\n', 0o444),
    filled('exe', '#!/bin/rc\n', 0o755),
    dirNode,
    file('block', { read: (_h, _o, _n, req) => gate.wait(req.signal) }, { perm: 0o444 }),
    file('stubborn', { read: () => gate.wait() }, { perm: 0o444 }),
    file('release', { write: (_h, _o, data) => void gate.wakeAll(data.toString()) }, { perm: 0o222 }),
    file('null', { read: () => Buffer.alloc(0), write: () => undefined }, { perm: 0o666 }),
    conv,
  ];
  return { ...ramfs('glenda', children), gate };
}

function convCommands(conv: Conv): Cmdtab<CtlCall> {
  return [
    { name: 'echo', args: [1, 3], run: (args) => void (conv.said = args.join(' ')) },
    { name: 'hangup', args: 0, run: () => void (conv.said = '') },
  ];
}

/** How a transcript run reaches a fresh fixture server: the client's Conn and how to tear down. */
export type ConnectFixture = (server: Server<any>) => Promise<{ conn: Conn; done: () => Promise<void> }>;

/** Plays `steps` (one dialect of transcript `file`) against a fresh fixture server reached by `connect`. */
export async function runOnFixture(file: string, steps: Step[], connect: ConnectFixture): Promise<void> {
  const server = new Server(conformanceTree().tree, { logger: silentLogger });
  const { conn, done } = await connect(server);
  const wire = new Wire(conn);
  try {
    await runSteps(file, steps, wire);
  } finally {
    wire.close();
    await done();
  }
}

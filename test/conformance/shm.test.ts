/**
 * The conformance transcripts over the shared-memory transport, in each signalling mode:
 * between threads' rings in one process (`shmPair`, SharedArrayBuffer + Atomics) and through
 * the process path (`listenShm`/`dialShm`: control socket, sealed memfd, eventfd doorbells).
 * The same runner as transcripts.test.ts; only the Conn differs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import type { Conn } from '@prose/transport';
import { Server, silentLogger } from '@prose/server';
import { dialShm, haveAddon, listenShm, shmPair, SHM_MODES, type ShmMode } from '@prose/shm';
import { Wire } from '../../libs/server/src/test-wire.js';
import { conformanceTree } from './fixture.js';
import { parseTranscript, runSteps, stepsFor } from './transcript.js';

const dir = __dirname;
const files = readdirSync(dir).filter((f) => f.endsWith('.9p')).sort();
const kinds = haveAddon() ? (['thread', 'proc'] as const) : (['thread'] as const);

async function connect(server: Server<any>, kind: 'thread' | 'proc', mode: ShmMode): Promise<{ conn: Conn; done: () => Promise<void> }> {
  if (kind === 'thread') {
    const [a, b] = shmPair({ mode });
    server.serve(a);
    return { conn: b, done: () => server.close({ timeoutMs: 200 }) };
  }
  const addr = `shm!${join(os.tmpdir(), `prose-conf-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`)}`;
  const l = await listenShm(addr, (c) => server.serve(c));
  const conn = await dialShm(addr, { mode });
  return { conn, done: async () => { await l.close(); await server.close({ timeoutMs: 200 }); } };
}

describe.each(files)('%s', (file) => {
  const t = parseTranscript(file, readFileSync(join(dir, file), 'utf8'));
  const cases = t.dialects.flatMap((d) => kinds.flatMap((k) => SHM_MODES.map((m) => [d, `shm-${k}-${m}`, k, m] as const)));
  test.each(cases)('%s over %s', async (dialect, _name, kind, mode) => {
    const steps = stepsFor(t, dialect);
    const server = new Server(conformanceTree().tree, { logger: silentLogger });
    const { conn, done } = await connect(server, kind, mode);
    const wire = new Wire(conn);
    try {
      await runSteps(file, steps, wire);
    } finally {
      wire.close();
      await done();
    }
  });
});

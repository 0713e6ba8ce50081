/**
 * The conformance suite: every transcript in this directory, in each of its dialects, against
 * the fixture server (ramfs + synthetic files), once over an in-process Conn pair and once over
 * real TCP on the loopback.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dial, connPair, type Conn } from '@prose/transport';
import type { Server } from '@prose/server';
import { runOnFixture } from './fixture.js';
import { parseTranscript, stepsFor } from './transcript.js';

const dir = __dirname;
const files = readdirSync(dir).filter((f) => f.endsWith('.9p')).sort();

async function connect(server: Server<any>, transport: 'pair' | 'tcp'): Promise<{ conn: Conn; done: () => Promise<void> }> {
  if (transport === 'pair') {
    const [a, b] = connPair('conformance');
    server.serve(a);
    return { conn: b, done: () => server.close({ timeoutMs: 200 }) };
  }
  const l = await server.listen('tcp!127.0.0.1!0');
  const conn = await dial(l.addr);
  return { conn, done: () => server.close({ timeoutMs: 200 }) };
}

test('the transcripts are found and each names the rules it pins', () => {
  expect(files.length).toBeGreaterThanOrEqual(10);
  for (const f of files) {
    const t = parseTranscript(f, readFileSync(join(dir, f), 'utf8'));
    expect({ file: f, rules: t.rules.length > 0 }).toEqual({ file: f, rules: true });
  }
});

describe.each(files)('%s', (file) => {
  const t = parseTranscript(file, readFileSync(join(dir, file), 'utf8'));
  const cases = t.dialects.flatMap((d) => (['pair', 'tcp'] as const).map((tr) => [d, tr] as const));
  test.each(cases)('%s over %s', async (dialect, transport) => {
    await runOnFixture(file, stepsFor(t, dialect), (server) => connect(server, transport));
  });
});

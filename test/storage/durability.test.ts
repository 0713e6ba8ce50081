/**
 * Durability: a client streams writes with several in flight and records every offset the
 * service acknowledged (Rwrite); mid-stream the service is killed with SIGKILL. Every
 * acknowledged byte must be in the file on disk, and readable through a restarted service.
 * (Rwrite is sent only after write(2) returned, so the data is in the kernel's page cache: a
 * killed process cannot lose it. Surviving power loss is Tfsync's job.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from '@prose/client';
import { L_O_CREAT, L_O_RDONLY, L_O_WRONLY } from '@prose/protocol';
import { startStorage, type Storage } from './helpers.js';

jest.setTimeout(60000);

const CHUNK = 64 * 1024;
const WINDOW = 8;
const MAX_BYTES = 512 * 1024 * 1024;
const KILL_AFTER_MS = 400;

/** The content of chunk `i`: its index in the first 4 bytes, then a byte derived from it. */
function chunk(i: number): Buffer {
  const b = Buffer.alloc(CHUNK, (i * 7 + 3) & 0xff);
  b.writeUInt32LE(i, 0);
  return b;
}

describe('nothing acknowledged is lost when the service is SIGKILLed mid-stream', () => {
  let svc: Storage | undefined;
  let again: Storage | undefined;

  afterAll(async () => {
    await again?.stop(true);
    await svc?.stop(true);
    if (svc) fs.rmSync(svc.base, { recursive: true, force: true });
  });

  test('every acknowledged chunk is on disk and readable after a restart', async () => {
    svc = await startStorage();
    const c = await Client.connect(svc.addr);
    const root = await c.attach({});
    const f = await (await root.clone()).lcreate('stream', L_O_WRONLY | L_O_CREAT, 0o644);
    const acked: number[] = [];
    let failed = 0;
    let next = 0;
    let killed = false;
    const started = Date.now();
    const lane = async () => {
      while (next * CHUNK < MAX_BYTES) {
        const i = next++;
        try {
          const n = await f.write(i * CHUNK, chunk(i));
          if (n !== CHUNK) throw new Error(`short write ${n}`);
          acked.push(i);
        } catch {
          failed++;
          return;
        }
        if (!killed && Date.now() - started > KILL_AFTER_MS) {
          killed = true;
          svc!.proc.proc.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, lane));
    c.close();
    expect(killed).toBe(true);
    expect(failed).toBeGreaterThan(0); // it died mid-stream, with writes in flight
    expect(acked.length).toBeGreaterThan(10);
    await new Promise<void>((r) => (svc!.proc.proc.exitCode !== null || svc!.proc.proc.signalCode !== null ? r() : svc!.proc.proc.once('exit', () => r())));
    expect(svc.proc.proc.signalCode).toBe('SIGKILL');

    // On disk, as the host sees it.
    const file = path.join(svc.dir, 'stream');
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(CHUNK);
    let bad = 0;
    for (const i of acked) {
      const n = fs.readSync(fd, buf, 0, CHUNK, i * CHUNK);
      if (n !== CHUNK || !buf.equals(chunk(i))) bad++;
    }
    fs.closeSync(fd);
    expect(bad).toBe(0);

    // Through a restarted service on the same directory.
    again = await startStorage([], { base: svc.base });
    const c2 = await Client.connect(again.addr);
    const r2 = await c2.attach({});
    const g = await (await r2.walk('stream')).lopen(L_O_RDONLY);
    const sample = acked.filter((_, k) => k % Math.max(1, Math.floor(acked.length / 64)) === 0);
    for (const i of sample) expect((await g.read(i * CHUNK, CHUNK)).equals(chunk(i))).toBe(true);
    await g.clunk();
    c2.close();
  });
});

/**
 * Test providers as child processes (dist/test/directory/fixtures/shared-file.js): started with
 * `--registry`, they are up once they print `registered <service> <provider>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Namespace } from '@prose/namespace';
import { ORDWR } from '@prose/protocol';
import { REPO_ROOT, stopChild } from '../support/child.js';

export const SHARED_FILE = path.join(REPO_ROOT, 'dist', 'test', 'directory', 'fixtures', 'shared-file.js');

export interface Provider {
  proc: ChildProcess;
  addr: string;
  provider: string;
  stderr(): string;
  stop(): Promise<void>;
  kill(sig?: NodeJS.Signals): void;
}

/**
 * Starts a provider registering at `registry` (NATS URLs): the shared-file fixture on `file`,
 * or another service's main (`script`, then `file` is ignored).
 */
export function startProvider(registry: string, file: string, extra: string[] = [], timeoutMs = 15000, script = SHARED_FILE): Promise<Provider> {
  const args = [script, ...(script === SHARED_FILE ? ['--file', file] : []), '--listen', 'tcp!127.0.0.1!0', '--health', 'none', '--registry', registry, ...extra];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`provider did not start; stderr: ${err}`)); }, timeoutMs);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      out += d;
      const addr = /^listening (\S+)$/m.exec(out)?.[1];
      const reg = /^registered (\S+) (\S+)$/m.exec(out);
      if (!addr || !reg) return;
      clearTimeout(timer);
      resolve({
        proc, addr, provider: reg[2]!, stderr: () => err,
        stop: () => { proc.kill('SIGCONT'); return stopChild(proc); },
        kill: (sig = 'SIGKILL') => { proc.kill(sig); },
      });
    });
    proc.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`provider exited (${code ?? sig}); stderr: ${err}`)); });
  });
}

/**
 * 2,000 operations on `file` of `ns` — writes of 8 bytes at their own offset, each read back and
 * compared — calling `kill` before op 1,000. Then every acknowledged write is looked for in
 * `disk`, the backing file. Throws on a wrong read.
 */
export async function stream(ns: Namespace, file: string, kill: () => void, disk: string) {
  const f = await ns.open(file, ORDWR);
  const acked: Array<[number, string]> = [];
  let longest = 0;
  const t0 = Date.now();
  for (let i = 0; i < 2000; i++) {
    if (i === 1000) kill();
    const k = i >> 1;
    const chunk = `${String(k).padStart(7, '0')}\n`;
    const s = Date.now();
    if ((i & 1) === 0) {
      const n = await f.write(k * 8, Buffer.from(chunk));
      if (n !== 8) throw new Error(`short write ${n} at ${k * 8}`);
      acked.push([k * 8, chunk]);
    } else {
      const got = (await f.read(k * 8, 8)).toString();
      if (got !== chunk) throw new Error(`read ${JSON.stringify(got)} at ${k * 8}, wrote ${JSON.stringify(chunk)}`);
    }
    longest = Math.max(longest, Date.now() - s);
  }
  const total = Date.now() - t0;
  await f.close();
  const onDisk = fs.readFileSync(disk);
  let bad = 0;
  for (const [off, c] of acked) if (onDisk.subarray(off, off + 8).toString() !== c) bad++;
  return { acked: acked.length, bad, longest, total };
}

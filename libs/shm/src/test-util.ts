/** Helpers shared by the shm tests (not part of the package). */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Conn } from '@prose/transport';

export const FIXTURES = path.join(__dirname, '..', 'test-fixtures');
export const DIST = path.join(__dirname, '..', 'dist', 'index.js');

/**
 * Runs JavaScript `body` in a fresh Node process (after `prefix`, e.g. taskset), with `shm`
 * bound to the built package, which does not load the addon until something uses it.
 * Resolves with the exit (0, an exit code or a signal name) and stdout; at most 20 s.
 */
export function runScript(body: string, prefix: string[] = []): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const [cmd, ...args] = [...prefix, process.execPath, '-e', `const shm = require(${JSON.stringify(DIST)});\n${body}`];
  return new Promise((resolve) => {
    execFile(cmd!, args, { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal ?? 'error') : 0, stdout, stderr }));
  });
}

/** A frame of `n` bytes (n ≥ 7) shaped like 9P: size[4] type[1] tag[2], then a pattern from `seed`. */
export function makeFrame(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  b.writeUInt32LE(n, 0);
  b[4] = 118; // Twrite
  b.writeUInt16LE(seed & 0xffff, 5);
  for (let i = 7; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

/**
 * Sends every frame of `sizes` on `conn` (all at once, honouring send()'s backpressure via
 * drain) and resolves with what came back (an echo peer returns them in order).
 */
export function echoAll(conn: Conn, sizes: number[], timeoutMs = 20000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`echo timed out after ${got.length}/${sizes.length}`)), timeoutMs);
    conn.start({
      frame(f) {
        got.push(Buffer.from(f));
        if (got.length === sizes.length) {
          clearTimeout(timer);
          resolve(got);
        }
      },
      close(err) {
        clearTimeout(timer);
        if (got.length < sizes.length) reject(err ?? new Error('closed early'));
      },
    });
    (async () => {
      for (let i = 0; i < sizes.length; i++) if (!conn.send(makeFrame(sizes[i]!, i))) await conn.drain();
    })().catch(reject);
  });
}

/** Ping-pong `n` frames of `size` one at a time; resolves with the count. */
export function pingPong(conn: Conn, n: number, size = 64): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const f = makeFrame(size, 1);
    conn.start({
      frame() {
        if (++got === n) resolve(got);
        else conn.send(f);
      },
      close(err) {
        if (got < n) reject(err ?? new Error('closed early'));
      },
    });
    conn.send(f);
  });
}

export interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line matching `re`. */
  line(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  kill(sig?: NodeJS.Signals): Promise<void>;
}

const children = new Set<ChildProcess>();

/** Spawns `node <fixtures>/peer.js args…`; always killed by `killAll`. */
export function spawnPeer(args: string[], nodeArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): Child {
  const proc = spawn(process.execPath, [...nodeArgs, path.join(FIXTURES, 'peer.js'), ...args], { stdio: ['pipe', 'pipe', 'inherit'], env });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let buf = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    buf += d;
    for (const w of waiters.splice(0)) w();
  });
  return {
    proc,
    line(re, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line ${re} from peer (got ${JSON.stringify(buf)})`)), timeoutMs);
        const check = () => {
          const m = re.exec(buf);
          if (m) {
            clearTimeout(timer);
            buf = buf.slice(m.index + m[0].length);
            resolve(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`peer exited (${proc.exitCode ?? proc.signalCode}) before ${re}`));
          } else waiters.push(check);
        };
        proc.once('exit', () => waiters.push(check) && check());
        check();
      });
    },
    kill(sig = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill(sig);
      });
    },
  };
}

/** Kills every child still running and removes the socket files of `tmpSock` (afterEach). */
export async function killAll(): Promise<void> {
  for (const p of socks) fs.rmSync(p, { force: true });
  socks.clear();
  await Promise.all(
    [...children].map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

const socks = new Set<string>();

/** A fresh control-socket path in the temp dir (removed by `killAll`). */
export function tmpSock(tag: string): string {
  const p = path.join(os.tmpdir(), `prose-shm-test-${process.pid}-${tag}-${Math.random().toString(36).slice(2, 8)}.sock`);
  socks.add(p);
  return p;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starting peers and services as child processes: each prints `listening <dial string>` on stdout
 * once it accepts connections; the parent waits for that line and kills the child at the end.
 */
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { meshEnv } from '@prose/service';
import { spawnPinned } from '../bench/placement.js';

export interface Peer {
  addr: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns `node script args…` on `cpus` (with the mesh's environment, meshEnv) and waits (≤ timeoutMs) for its `listening` line. */
export function startNodePeer(cpus: string | undefined, script: string, args: string[], timeoutMs = 10000): Promise<Peer> {
  const proc = spawnPinned(cpus, process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: meshEnv() });
  return waitListening(proc, timeoutMs);
}

/** Waits for a `listening <addr>` line from a child; rejects if it exits first or times out. */
export function waitListening(proc: ChildProcess, timeoutMs: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('peer did not start in time')); }, timeoutMs);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      buf += d;
      const m = /listening (\S+)/.exec(buf);
      if (!m) return;
      clearTimeout(timer);
      resolve({ addr: m[1]!, proc, stop: () => stopChild(proc) });
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`peer exited with ${code} before listening`)); });
  });
}

/** SIGTERM, then SIGKILL after 2 s; resolves when the child is gone. */
export function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
    proc.once('exit', () => { clearTimeout(t); resolve(); });
    proc.kill('SIGTERM');
  });
}

/** The repository's root folder. */
export const REPO_ROOT = path.resolve(__dirname, __filename.endsWith('.js') ? '../../..' : '../..');

export interface ServiceProc extends Peer {
  /** Every `listening <addr>` the service printed, in order. */
  addrs: string[];
  /** Its `health <addr>` line, when it started a gRPC health server. */
  health?: string;
  /** stderr so far. */
  stderr(): string;
}

/**
 * Starts a built service (`services/<name>/dist/main.js`) as a child process with `args` (and
 * the mesh's environment, meshEnv, under `opts.env`) and waits until it has printed all its
 * `listening` lines (and `health`, unless `--health none`).
 * Always stop it (`stop()` sends SIGTERM, then SIGKILL after 2 s).
 */
export function startServiceProc(name: string, args: string[], opts: { cpus?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ServiceProc> {
  const script = path.join(REPO_ROOT, 'services', name, 'dist', 'main.js');
  const proc = spawnPinned(opts.cpus, process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: meshEnv({ ...process.env, ...opts.env }) });
  const wantHealth = !args.some((a, i) => (a === '--health' && args[i + 1] === 'none') || a === '--health=none');
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${name} did not start in time; stderr: ${err}`)); }, opts.timeoutMs ?? 15000);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      out += d;
      const addrs = [...out.matchAll(/^listening (\S+)$/gm)].map((m) => m[1]!);
      const health = /^health (\S+)$/m.exec(out)?.[1];
      if (addrs.length === 0 || (wantHealth && !health)) return;
      clearTimeout(timer);
      resolve({ addr: addrs[0]!, addrs, health, proc, stderr: () => err, stop: () => stopChild(proc) });
    });
    proc.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`${name} exited (${code ?? sig}) before listening; stderr: ${err}`)); });
  });
}

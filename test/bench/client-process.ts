/**
 * A measurement's client side in a process of its own. A Node process runs at one of two speed
 * levels for life (layout.ts), and so does the pair it makes with a Node server; a suite that
 * measured every repetition from its driver process measured one draw of the client, however
 * many servers it started. The suites that compare our servers with diod (core, storage) run
 * each repetition's client as `node <suite>.js <flag> <plan JSON>` instead, placed like the
 * peers, and take its result from the last line it prints; the channel suite runs fresh
 * drivers the same way (`runJsonProcess`).
 */
import { createInterface } from 'node:readline';
import { loopIdleMetric } from '@prose/shm';
import { spawnPinned } from './placement.js';
import { logLine } from './stats.js';

/** How long one client process may take before it is killed and the suite fails. */
export const CLIENT_TIMEOUT_MS = 30 * 60_000;

/** Runs `node script flag JSON(plan)` on `cpus`: `runJsonProcess` with a plan. */
export function runClientProcess<T>(cpus: string | undefined, script: string, flag: string, plan: unknown, log: (line: string) => void, timeoutMs = CLIENT_TIMEOUT_MS): Promise<T> {
  return runJsonProcess<T>(cpus, [script, flag, JSON.stringify(plan)], log, timeoutMs);
}

/**
 * Runs `node args…` on `cpus`; its stderr lines go to `log`, and it resolves with the JSON
 * value on the last line of its stdout (rejects, with the last thing it said on stderr, when it
 * fails, prints no such line or outlives `timeoutMs`).
 */
export function runJsonProcess<T>(cpus: string | undefined, args: string[], log: (line: string) => void, timeoutMs = CLIENT_TIMEOUT_MS): Promise<T> {
  const proc = spawnPinned(cpus, process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let lastErr = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    lastErr = l;
    log(l);
  });
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        try {
          resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
          return;
        } catch {
          // a clean exit without a result is a failure too
        }
      }
      const how = timedOut ? `killed after ${timeoutMs} ms` : signal !== null ? `killed by ${signal}` : `exit ${code}`;
      reject(new Error(`client process ${args[1] ?? args[0]} (${how}) gave no result${lastErr ? `: ${lastErr}` : ''}`));
    });
  });
}

/**
 * The other end: when this process was started as `node script flag plan`, runs `body(plan)`
 * with a log to stderr and prints its result as one JSON line. Returns false otherwise.
 */
export function serveClientProcess<P, T>(flag: string, body: (plan: P, log: (line: string) => void) => Promise<T>): boolean {
  if (process.argv[2] !== flag) return false;
  loopIdleMetric(false); // as our peers run (null-server.ts)
  body(JSON.parse(process.argv[3]!) as P, logLine).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`${flag}: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
  return true;
}

/**
 * Starts the real diod (Debian's /usr/sbin/diod) for interop tests and benchmarks: in the
 * foreground, no auth, logging to stderr, listening on a free loopback TCP port or on a Unix
 * socket, exporting a fresh temporary directory. `stop()` kills it and removes the directory;
 * a process 'exit' hook does the same if a test run dies before calling it.
 *
 * The flags, and why:
 *   -f            foreground: the child is diod itself, so killing it stops the server
 *   -n            no auth (--no-auth): Tattach without a Tauth afid is accepted
 *   -c /dev/null  no config file: /etc/diod.conf cannot change the test's server
 *   -L stderr     log to stderr (kept in `log()` for failure messages)
 *   -l ADDR       127.0.0.1:PORT, or the path of a Unix socket
 *   -e DIR        export DIR; the attach aname is DIR
 * As root diod serves every user (it switches fsuid per attach); as another user it serves only
 * that user. Either way attaching with this process's user name and uid (the client's
 * defaults) works, so no -U/-S/-u is needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canConnect, freePort } from './ports.js';

/** The diod binary; PROSE_DIOD overrides. */
export const DIOD = process.env.PROSE_DIOD ?? '/usr/sbin/diod';

export interface DiodOptions {
  /** Listen on a Unix socket in the temp dir instead of TCP. */
  unix?: boolean;
  /** Worker threads (-t); diod's default is 16. */
  nwthreads?: number;
  /** Command to run diod under, e.g. ['taskset', '-c', '0']. */
  prefix?: string[];
  /** More diod flags. */
  args?: string[];
  /** How long to wait for diod to accept connections (default 5000 ms). */
  startTimeoutMs?: number;
}

export interface Diod {
  /** Dial string: `tcp!127.0.0.1!PORT` or `unix!/tmp/.../diod.sock`. */
  addr: string;
  /** The exported directory: the aname to attach to, and where to look at the files. */
  exportDir: string;
  proc: ChildProcess;
  /** The flags diod was started with. */
  argv: string[];
  /** diod's stderr so far. */
  log(): string;
  /** True while diod runs (false once it has exited, on its own or by `stop`). */
  running(): boolean;
  /** Kills diod and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** True when the diod binary is there to run. */
export function haveDiod(): boolean {
  try {
    fs.accessSync(DIOD, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const live = new Set<{ proc: ChildProcess; base: string }>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const { proc, base } of live) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
}

function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

function waitExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (exited(proc)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      proc.removeListener('exit', done);
      resolve(false);
    }, ms);
    function done() {
      clearTimeout(t);
      resolve(true);
    }
    proc.once('exit', done);
  });
}

/**
 * Starts diod and resolves once it accepts connections. Retries with another port when the one
 * picked was taken in the meantime. Rejects (with diod's log) if it exits or does not come up.
 */
export async function startDiod(opts: DiodOptions = {}): Promise<Diod> {
  if (!haveDiod()) throw new Error(`${DIOD} not found: install the Debian package diod (apt-get install -y diod)`);
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-diod-'));
  const exportDir = path.join(base, 'export');
  await fsp.mkdir(exportDir);
  let lastErr: Error | undefined;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await launch(opts, base, exportDir);
      } catch (err) {
        lastErr = err as Error;
        if (!/in use/i.test(lastErr.message)) break;
      }
    }
  } catch (err) {
    lastErr = err as Error;
  }
  await fsp.rm(base, { recursive: true, force: true });
  throw lastErr ?? new Error('diod did not start');
}

async function launch(opts: DiodOptions, base: string, exportDir: string): Promise<Diod> {
  const sock = path.join(base, 'diod.sock');
  const port = opts.unix ? 0 : await freePort();
  const listenAt = opts.unix ? sock : `127.0.0.1:${port}`;
  const argv = ['-f', '-n', '-c', '/dev/null', '-L', 'stderr', '-l', listenAt, '-e', exportDir];
  if (opts.nwthreads) argv.push('-t', String(opts.nwthreads));
  argv.push(...(opts.args ?? []));
  const prefix = opts.prefix ?? [];
  const cmd = prefix.length > 0 ? prefix[0]! : DIOD;
  const cmdArgs = prefix.length > 0 ? [...prefix.slice(1), DIOD, ...argv] : argv;
  // cwd in the temp dir: a core file, should diod crash, goes there and is removed with it (as
  // root diod raises RLIMIT_CORE itself, so `ulimit -c 0` cannot prevent one).
  const proc = spawn(cmd, cmdArgs, { cwd: base, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let spawnErr: Error | undefined;
  proc.once('error', (err) => {
    spawnErr = err;
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    log = (log + d).slice(-65536);
  });
  const entry = { proc, base };
  live.add(entry);
  hookExit();
  let stopping: Promise<void> | undefined;
  /** Set once diod is up: from then on stop() also removes the temp dir (before, startDiod does). */
  let up = false;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // SIGKILL, not SIGTERM: diod 1.0.24's SIGTERM shutdown races the teardown of a connection
      // that has just closed and segfaults about half the time (dumping a 300 MB core). A test
      // server has nothing to save, and its files are written through to disk already.
      if (!exited(proc) && !spawnErr) {
        proc.kill('SIGKILL');
        await waitExit(proc, 5000);
      }
      live.delete(entry);
      if (up) await fsp.rm(base, { recursive: true, force: true });
    })();
    return stopping;
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 5000);
  const target = opts.unix ? { path: sock } : { host: '127.0.0.1', port };
  for (;;) {
    if (spawnErr) {
      await stop();
      throw new Error(`cannot run ${cmd}: ${spawnErr.message}`);
    }
    if (exited(proc)) {
      await stop();
      throw new Error(`diod exited (${proc.exitCode ?? proc.signalCode}) before accepting connections: ${log.trim()}`);
    }
    if (await canConnect(target)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`diod did not accept connections on ${listenAt} within ${opts.startTimeoutMs ?? 5000} ms: ${log.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  up = true;
  return {
    addr: opts.unix ? `unix!${sock}` : `tcp!127.0.0.1!${port}`,
    exportDir,
    proc,
    argv: [DIOD, ...argv],
    log: () => log,
    running: () => !exited(proc),
    stop,
  };
}

/**
 * Helpers for the storage service's integration tests: start the built service on a temporary
 * export (as a child process, like production), fill and fingerprint host trees.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startServiceProc, type ServiceProc } from '../support/child.js';

export interface Storage {
  /** Dial string of the 9P listener. */
  addr: string;
  /** The exported directory on the host. */
  dir: string;
  /** The temp folder holding `dir` (and whatever the test put beside it). */
  base: string;
  proc: ServiceProc;
  /** SIGTERM (then SIGKILL) and remove the temp folder unless `keep`. */
  stop(keep?: boolean): Promise<void>;
}

/**
 * Starts services/storage/dist/main.js exporting a fresh `<base>/export` (or `opts.base`'s),
 * with `args` added (and `opts.env` over this process's environment). No gRPC health server.
 */
export async function startStorage(args: string[] = [], opts: { base?: string; cpus?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Storage> {
  const base = opts.base ?? fs.mkdtempSync(path.join(os.tmpdir(), 'prose-storage-'));
  const dir = path.join(base, 'export');
  fs.mkdirSync(dir, { recursive: true });
  let proc: ServiceProc;
  try {
    proc = await startServiceProc('storage', ['--export', dir, '--health', 'none', ...args], { cpus: opts.cpus, env: opts.env });
  } catch (e) {
    if (!opts.base) fs.rmSync(base, { recursive: true, force: true });
    throw e;
  }
  return {
    addr: proc.addr,
    dir,
    base,
    proc,
    async stop(keep = false) {
      await proc.stop();
      if (!keep) fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes. */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/**
 * A fingerprint of everything under `root` as the host sees it: every entry's type, mode,
 * owner, size, link count, mtime, symlink target and content hash. Equal fingerprints mean
 * nothing there was read-modified, created, removed or re-linked.
 */
export function fingerprint(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = fs.lstatSync(p, { bigint: true });
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) extra = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    out.push(`${rel} mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} size=${st.size} nlink=${st.nlink} mtime=${st.mtimeNs} ctime=${st.ctimeNs} ${extra}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), `${rel}/${n}`);
  };
  walk(root, '.');
  return out;
}

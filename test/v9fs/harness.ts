/**
 * Boots a Linux kernel under QEMU and mounts the storage service with the kernel's own 9P
 * client (v9fs), to check what users will see (issue 5). No network: the guest has no NIC.
 *
 *   host: services/storage --listen unix!<tmp>/sock/s.sock   (as an ordinary user)
 *           ^ QEMU -chardev socket,path=… (client mode) — virtserialport name=p9
 *   guest: /dev/vport0p1 <-> busybox nc -l -p 564 (on the guest's lo) <-> v9fs trans=tcp
 *
 * Why not trans=fd on the port: see test/v9fs/guest/init (virtio_console has no
 * read_iter/write_iter, which kernel_read/kernel_write require; and FIFO pairs hang past 64 KiB).
 *
 * The relay in the guest is test/v9fs/guest/p9relay.c, built statically here with `cc -static`
 * when a C compiler and a static libc are there (gcc, libc6-dev); otherwise busybox nc does the
 * job, correctly but ~10x slower (no TCP_NODELAY; see p9relay.c). PROSE_V9FS_RELAY=nc forces nc.
 *
 * The initramfs is built per run in a temp dir: a static busybox, the modules 9p needs (with
 * their modules.dep dependencies, decompressed when .ko.xz/.ko.zst/.ko.gz), /init and
 * /workload.sh from test/v9fs/guest, and /data/src.bin (1 MiB of random bytes) with its sha256
 * and md5 computed here. It is written as a newc cpio by this module (no cpio(1) needed).
 * /init prints `@@V9FS …` lines on ttyS0 (QEMU -serial stdio), which `runGuest` parses.
 * Everything is bounded: QEMU is SIGKILLed at the deadline, the service stopped and the temp
 * dir removed in every case (unless PROSE_V9FS_KEEP=1).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { REPO_ROOT, stopChild } from '../support/child.js';
import { startDiod, type Diod } from '../support/diod.js';

export const GUEST_DIR = path.join(__dirname, 'guest');
/** Modules the guest loads (with their dependencies), unless built in. */
export const WANTED_MODULES = ['virtio_pci', 'virtio_console', '9pnet_fd', '9p'];

export interface Tools {
  qemu: string;
  kernel: string;
  kver: string;
  modulesDir: string;
  busybox: string;
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function versionCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

/**
 * Finds QEMU, a kernel and its modules, and a static busybox; returns a reason to skip when one
 * is missing. Env: PROSE_V9FS_QEMU, PROSE_V9FS_KERNEL, PROSE_V9FS_MODULES, PROSE_V9FS_BUSYBOX.
 */
export function findTools(): Tools | { skip: string } {
  const qemu = process.env.PROSE_V9FS_QEMU ?? which('qemu-system-x86_64');
  if (!qemu || !fs.existsSync(qemu)) return { skip: `qemu-system-x86_64 not found${qemu ? ` at ${qemu}` : ''} (apt-get install qemu-system-x86)` };
  let kernel = process.env.PROSE_V9FS_KERNEL;
  if (kernel && !fs.existsSync(kernel)) return { skip: `no kernel at PROSE_V9FS_KERNEL=${kernel}` };
  if (!kernel) {
    let names: string[] = [];
    try {
      names = fs.readdirSync('/boot').filter((n) => n.startsWith('vmlinuz-'));
    } catch {
      /* none */
    }
    names.sort(versionCompare);
    for (const n of names.reverse()) {
      const p = path.join('/boot', n);
      try {
        fs.accessSync(p, fs.constants.R_OK);
        if (fs.existsSync(path.join('/lib/modules', n.slice('vmlinuz-'.length), 'modules.dep'))) {
          kernel = p;
          break;
        }
      } catch {
        /* unreadable */
      }
    }
  }
  if (!kernel) return { skip: 'no readable /boot/vmlinuz-* with /lib/modules/<ver>/modules.dep (apt-get install linux-image-amd64)' };
  const kver = path.basename(kernel).replace(/^vmlinuz-/, '');
  const modulesDir = process.env.PROSE_V9FS_MODULES ?? path.join('/lib/modules', kver);
  if (!fs.existsSync(path.join(modulesDir, 'modules.dep'))) return { skip: `no ${modulesDir}/modules.dep for kernel ${kernel}` };
  const busybox = process.env.PROSE_V9FS_BUSYBOX ?? ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!busybox || !isStatic(busybox)) return { skip: 'no static busybox (apt-get install busybox-static)' };
  return { qemu, kernel, kver, modulesDir, busybox };
}

/** An ELF without a PT_INTERP program header is statically linked. */
function isStatic(file: string): boolean {
  try {
    const b = fs.readFileSync(file);
    if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
    const phoff = Number(b.readBigUInt64LE(0x20));
    const phentsize = b.readUInt16LE(0x36);
    const phnum = b.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
    return true;
  } catch {
    return false;
  }
}

/** The module files (relative to modulesDir) to load, dependencies first. */
export function moduleLoadOrder(modulesDir: string, wanted = WANTED_MODULES): string[] {
  const deps = new Map<string, string[]>();
  for (const line of fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    deps.set(line.slice(0, i), line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
  }
  let builtin = '';
  try {
    builtin = fs.readFileSync(path.join(modulesDir, 'modules.builtin'), 'utf8');
  } catch {
    /* none */
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const add = (m: string): void => {
    if (seen.has(m)) return;
    seen.add(m);
    // modules.dep lists the deepest dependency last; load from the end.
    for (const d of [...(deps.get(m) ?? [])].reverse()) add(d);
    order.push(m);
  };
  for (const w of wanted) {
    const re = new RegExp(`/${w.replace(/[-_]/g, '[-_]')}\\.ko(\\.xz|\\.zst|\\.gz)?$`);
    const m = [...deps.keys()].find((k) => re.test(k));
    if (m) add(m);
    else if (!new RegExp(`/${w}\\.ko`).test(builtin)) throw new Error(`kernel module ${w} is neither in modules.dep nor built in`);
  }
  return order;
}

function readModule(file: string): Buffer {
  const tool = file.endsWith('.xz') ? ['xz', '-dc'] : file.endsWith('.zst') ? ['zstd', '-qdc'] : undefined;
  if (file.endsWith('.gz')) return zlib.gunzipSync(fs.readFileSync(file));
  if (!tool) return fs.readFileSync(file);
  const r = spawnSync(tool[0]!, [...tool.slice(1), file], { maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${tool[0]} failed on ${file}: ${r.error ?? r.stderr}`);
  return r.stdout;
}

/** A newc ("070701") cpio archive of entries (directories first), as the kernel unpacks it. */
export function cpioNewc(entries: { name: string; mode: number; data?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  const hdr = (name: string, mode: number, size: number): void => {
    const f = [ino++, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, Buffer.byteLength(name) + 1, 0];
    const h = '070701' + f.map((v) => v.toString(16).padStart(8, '0')).join('');
    const nameBuf = Buffer.concat([Buffer.from(h + name), Buffer.from([0])]);
    parts.push(nameBuf, pad4(nameBuf.length));
  };
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data = 'data' in e && e.data ? e.data : Buffer.alloc(0);
    hdr(e.name, e.mode, data.length);
    parts.push(data, pad4(data.length));
  }
  return Buffer.concat(parts);
}

export interface BigData {
  bytes: Buffer;
  sha256: string;
  md5: string;
}

/**
 * Builds test/v9fs/guest/p9relay.c statically into `dir`; undefined (and the guest uses busybox
 * nc) when there is no compiler or static libc, or PROSE_V9FS_RELAY=nc.
 */
export function buildRelay(dir: string): string | undefined {
  if (process.env.PROSE_V9FS_RELAY === 'nc') return undefined;
  const cc = process.env.CC ?? which('cc') ?? which('gcc');
  if (!cc) return undefined;
  const out = path.join(dir, 'p9relay');
  const r = spawnSync(cc, ['-O2', '-static', '-o', out, path.join(GUEST_DIR, 'p9relay.c')], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0 || !isStatic(out)) return undefined;
  return out;
}

/** Builds the gzipped initramfs; returns its path. */
export function buildInitramfs(tools: Tools, dir: string, big: BigData, relay?: string): string {
  const dirs = ['bin', 'modules', 'data'];
  const files: { name: string; mode: number; data: Buffer }[] = [
    { name: 'bin/busybox', mode: 0o100755, data: fs.readFileSync(tools.busybox) },
    { name: 'init', mode: 0o100755, data: fs.readFileSync(path.join(GUEST_DIR, 'init')) },
    { name: 'workload.sh', mode: 0o100755, data: fs.readFileSync(path.join(GUEST_DIR, 'workload.sh')) },
    { name: 'data/src.bin', mode: 0o100644, data: big.bytes },
    { name: 'data/src.sha256', mode: 0o100644, data: Buffer.from(big.sha256 + '\n') },
    { name: 'data/src.md5', mode: 0o100644, data: Buffer.from(big.md5 + '\n') },
  ];
  if (relay) files.push({ name: 'bin/p9relay', mode: 0o100755, data: fs.readFileSync(relay) });
  const list: string[] = [];
  for (const m of moduleLoadOrder(tools.modulesDir)) {
    const base = path.basename(m).replace(/\.(xz|zst|gz)$/, '');
    files.push({ name: `modules/${base}`, mode: 0o100644, data: readModule(path.join(tools.modulesDir, m)) });
    list.push(base);
  }
  files.push({ name: 'modules.list', mode: 0o100644, data: Buffer.from(list.join('\n') + '\n') });
  const cpio = cpioNewc([...dirs.map((name) => ({ name, mode: 0o40755 })), ...files]);
  const out = path.join(dir, 'initrd.gz');
  fs.writeFileSync(out, zlib.gzipSync(cpio, { level: 1 }));
  return out;
}

export interface StepResult {
  name: string;
  pass: boolean;
  detail: string;
  /** Guest uptime (s) when the step ended. */
  at?: number;
}

/** What the host sees of one path in the export after the run (lstat, never followed). */
export interface HostEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  mtime: number;
  sha256?: string;
  text?: string;
  target?: string;
}

export interface GuestRun {
  version: string;
  msize: number;
  server: 'storage' | 'diod';
  /** The whole serial console. */
  console: string;
  /** The exit code /init reported with `@@V9FS END n` (undefined: never got there). */
  end?: number;
  timedOut: boolean;
  steps: StepResult[];
  workload?: { pass: number; fail: number };
  mounted?: string;
  /** The guest relay: p9relay or nc. */
  relay?: string;
  coldSha256?: string;
  big: BigData;
  /** Milliseconds from QEMU start to the mount, and in all. */
  mountMs?: number;
  totalMs: number;
  /** The export, relative path → entry, taken before the temp dir is removed. */
  host: Map<string, HostEntry>;
  /** The service's stderr (its 9P trace with trace: true). */
  serviceLog: string;
  guestUid: number;
  guestGid: number;
}

export interface RunOptions {
  version: '9p2000.L' | '9p2000.u';
  msize?: number;
  /** Boot + workload deadline; QEMU is SIGKILLed at it. Default 120 s (PROSE_V9FS_TIMEOUT s). */
  timeoutMs?: number;
  /** Run the service with -D (9P trace to its stderr, in `serviceLog`). */
  trace?: boolean;
  /**
   * The server the guest mounts: our storage service (default), or the real diod (a reference
   * to validate the harness and to tell kernel behaviour from ours; diod speaks only .L).
   */
  server?: 'storage' | 'diod';
  /** Lines of the console as they arrive (for progress). */
  onLine?: (line: string) => void;
}

function snapshot(root: string): Map<string, HostEntry> {
  const out = new Map<string, HostEntry>();
  const walk = (rel: string): void => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const e: HostEntry = {
      type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
      mode: st.mode & 0o7777,
      size: st.size,
      nlink: st.nlink,
      uid: st.uid,
      mtime: Math.floor(st.mtimeMs / 1000),
    };
    if (e.type === 'file') {
      const data = fs.readFileSync(p);
      e.sha256 = crypto.createHash('sha256').update(data).digest('hex');
      if (data.length <= 4096) e.text = data.toString('latin1');
    } else if (e.type === 'symlink') e.target = fs.readlinkSync(p);
    if (rel) out.set(rel, e);
    if (e.type === 'dir') for (const n of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return out;
}

/** The user the service runs as (when we are root: PROSE_V9FS_UID/GID, default 1000), and the guest user. */
function guestUser(): { uid: number; gid: number; drop: boolean } {
  const me = process.getuid?.() ?? 0;
  if (me !== 0) return { uid: me, gid: process.getgid?.() ?? me, drop: false };
  return { uid: Number(process.env.PROSE_V9FS_UID ?? 1000), gid: Number(process.env.PROSE_V9FS_GID ?? 1000), drop: true };
}

function waitListening(proc: ChildProcess, timeoutMs: number, log: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`storage did not start; stderr: ${log()}`)), timeoutMs);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code, sig) => {
      clearTimeout(t);
      reject(new Error(`storage exited (${code ?? sig}) before listening; stderr: ${log()}`));
    });
  });
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** One boot: service + QEMU + workload in one dialect. Always cleans up. */
export async function runGuest(tools: Tools, opts: RunOptions): Promise<GuestRun> {
  const msize = opts.msize ?? 1048576;
  const timeoutMs = opts.timeoutMs ?? Number(process.env.PROSE_V9FS_TIMEOUT ?? 120) * 1000;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-v9fs-'));
  const exportDir = path.join(base, 'export');
  const sockDir = path.join(base, 'sock');
  const user = guestUser();
  const bytes = crypto.randomBytes(1 << 20);
  const big: BigData = {
    bytes,
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    md5: crypto.createHash('md5').update(bytes).digest('hex'),
  };
  let svc: ChildProcess | undefined;
  let diod: Diod | undefined;
  let qemu: ChildProcess | undefined;
  let serviceLog = '';
  let exportRoot = exportDir;
  let aname = '';
  try {
    fs.chmodSync(base, 0o755);
    fs.mkdirSync(exportDir);
    fs.mkdirSync(sockDir);
    if (user.drop) {
      fs.chownSync(exportDir, user.uid, user.gid);
      fs.chownSync(sockDir, user.uid, user.gid);
    }
    const relayBin = buildRelay(base);
    const initrd = buildInitramfs(tools, base, big, relayBin);
    let sock = path.join(sockDir, 's.sock');
    if (opts.server === 'diod') {
      diod = await startDiod({ unix: true, args: opts.trace ? ['-d', '1'] : [] });
      sock = diod.addr.replace(/^unix!/, '');
      exportRoot = aname = diod.exportDir;
      fs.chownSync(exportRoot, user.uid, user.gid);
      // The mount's first attach is as "nobody" (uname default, access=user): it must reach the root.
      fs.chmodSync(path.dirname(exportRoot), 0o755);
    } else {
      const args = [path.join(REPO_ROOT, 'services/storage/dist/main.js'), '--export', exportDir, '--listen', `unix!${sock}`, '--health', 'none'];
      if (opts.trace) args.push('-D');
      svc = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(user.drop ? { uid: user.uid, gid: user.gid } : {}),
      });
      live.add(svc);
      svc.stderr!.setEncoding('utf8');
      svc.stderr!.on('data', (d: string) => {
        serviceLog += d;
      });
      await waitListening(svc, 15000, () => serviceLog);
    }

    // KVM only on request: on nested hosts a KVM guest can hang in early boot; TCG is enough.
    const kvm = process.env.PROSE_V9FS_KVM === '1';
    const qargs = [
      ...(kvm ? ['-machine', 'q35,accel=kvm', '-cpu', 'host'] : ['-machine', 'q35,accel=tcg']),
      '-m', '512', '-smp', '1', '-nodefaults', '-no-reboot', '-display', 'none',
      '-serial', 'stdio', '-monitor', 'none', '-nic', 'none',
      '-kernel', tools.kernel, '-initrd', initrd,
      '-append', `console=ttyS0 quiet panic=-1 v9fs.version=${opts.version} v9fs.msize=${msize} v9fs.uid=${user.uid} v9fs.gid=${user.gid}${aname ? ` v9fs.aname=${aname}` : ''}`,
      '-chardev', `socket,id=c9p,path=${sock}`,
      '-device', 'virtio-serial-pci', '-device', 'virtserialport,chardev=c9p,name=p9',
    ];
    const t0 = Date.now();
    let consoleText = '';
    let mountMs: number | undefined;
    let timedOut = false;
    let pending = '';
    const q = spawn(tools.qemu, qargs, { stdio: ['ignore', 'pipe', 'pipe'] });
    qemu = q;
    live.add(q);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timedOut = true;
        q.kill('SIGKILL');
      }, timeoutMs);
      const onData = (d: Buffer): void => {
        const s = d.toString('latin1');
        consoleText += s;
        pending += s;
        let i: number;
        while ((i = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, i).replace(/\r$/, '');
          pending = pending.slice(i + 1);
          if (mountMs === undefined && line.startsWith('@@V9FS MOUNTED')) mountMs = Date.now() - t0;
          opts.onLine?.(line);
        }
      };
      q.stdout!.on('data', onData);
      q.stderr!.on('data', onData);
      q.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const totalMs = Date.now() - t0;
    const lines = consoleText.split(/\r?\n/);
    const steps: StepResult[] = [];
    let workload: GuestRun['workload'];
    let end: number | undefined;
    let mounted: string | undefined;
    let coldSha256: string | undefined;
    let relay: string | undefined;
    for (const l of lines) {
      let m: RegExpExecArray | null;
      if ((m = /^@@V9FS STEP (\S+) (PASS|FAIL) ?(.*?) ?(?:@([\d.]+))?$/.exec(l))) {
        steps.push({ name: m[1]!, pass: m[2] === 'PASS', detail: m[3]!, at: m[4] !== undefined ? Number(m[4]) : undefined });
      }
      else if ((m = /^@@V9FS WORKLOAD pass=(\d+) fail=(\d+)/.exec(l))) workload = { pass: Number(m[1]), fail: Number(m[2]) };
      else if ((m = /^@@V9FS END (\d+)/.exec(l))) end = Number(m[1]);
      else if ((m = /^@@V9FS MOUNTED (.*)$/.exec(l))) mounted = m[1];
      else if ((m = /^@@V9FS COLD_SHA256 (\S+)/.exec(l))) coldSha256 = m[1];
      else if ((m = /^@@V9FS RELAY (\S+)/.exec(l))) relay = m[1];
    }
    // Stop the service before looking, so everything it acknowledged is settled.
    if (svc) await stopChild(svc);
    if (diod) serviceLog = diod.log();
    const host = fs.existsSync(path.join(exportRoot, 'work')) ? snapshot(path.join(exportRoot, 'work')) : new Map<string, HostEntry>();
    return {
      version: opts.version, msize, server: opts.server ?? 'storage', console: consoleText, end, timedOut, steps, workload, mounted, relay, coldSha256, big,
      mountMs, totalMs, host, serviceLog, guestUid: user.uid, guestGid: user.gid,
    };
  } finally {
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
    if (svc) await stopChild(svc);
    if (diod) await diod.stop();
    if (qemu) live.delete(qemu);
    if (svc) live.delete(svc);
    if (process.env.PROSE_V9FS_KEEP === '1') process.stderr.write(`v9fs: kept ${base}\n`);
    else fs.rmSync(base, { recursive: true, force: true });
  }
}

/**
 * The export's `work/` as the workload leaves it, per dialect: path → what must hold. Paths
 * not listed must not exist.
 */
export function expectedHostState(run: GuestRun): Map<string, Partial<HostEntry>> {
  const u = run.guestUid;
  const e = new Map<string, Partial<HostEntry>>([
    ['a', { type: 'dir', mode: 0o755, uid: u }],
    ['a/b', { type: 'dir' }],
    ['a/b/c', { type: 'dir' }],
    ['a/b/moved', { type: 'file', text: 'hello\nworld\n', uid: u }],
    ['big.bin', { type: 'file', size: 1 << 20, sha256: run.big.sha256 }],
    ['file', { type: 'file', mode: 0o600, text: 'final\n', nlink: 1 }],
    ['file2', { type: 'file', text: 'hello\nworld\n', mtime: 981173106 }],
    ['link', { type: 'symlink', target: 'a/b/moved' }],
    ['tree', { type: 'dir' }],
    ['tree/empty', { type: 'dir' }],
    ['tree/one', { type: 'file', mode: 0o604, text: 'one\n' }],
    ['tree/x', { type: 'dir', mode: 0o751 }],
    ['tree/x/two', { type: 'file', text: 'two\n' }],
    ['tree/x/up', { type: 'symlink', target: '../one' }],
    ['tree/x/y', { type: 'dir' }],
    ['tree/x/y/blob', { type: 'file', size: 70000, sha256: crypto.createHash('sha256').update(run.big.bytes.subarray(0, 70000)).digest('hex') }],
  ]);
  return e;
}

/** Differences between the export and expectedHostState, one line each (empty: all good). */
export function checkHost(run: GuestRun): string[] {
  const want = expectedHostState(run);
  const bad: string[] = [];
  for (const [p, w] of want) {
    const got = run.host.get(p);
    if (!got) {
      bad.push(`${p}: missing on the host`);
      continue;
    }
    for (const [k, v] of Object.entries(w)) {
      const g = (got as unknown as Record<string, unknown>)[k];
      if (g !== v) bad.push(`${p}: ${k} is ${typeof g === 'number' && k === 'mode' ? g.toString(8) : JSON.stringify(g)}, want ${typeof v === 'number' && k === 'mode' ? v.toString(8) : JSON.stringify(v)}`);
    }
  }
  for (const p of run.host.keys()) if (!want.has(p)) bad.push(`${p}: on the host but should not exist`);
  return bad;
}

/** A short report of a run for logs and failure messages. */
export function summarize(run: GuestRun): string {
  const failed = run.steps.filter((s) => !s.pass);
  return [
    `${run.server} ${run.version} msize=${run.msize}: end=${run.end ?? 'none'}${run.timedOut ? ' TIMED OUT' : ''} mount at ${run.mountMs ?? '-'} ms, total ${run.totalMs} ms`,
    `  mounted: ${run.mounted ?? '-'} (guest relay ${run.relay ?? '-'})`,
    `  workload: ${run.workload ? `${run.workload.pass} passed, ${run.workload.fail} failed` : 'did not finish'}`,
    ...failed.map((s) => `  FAIL ${s.name}: ${s.detail}`),
  ].join('\n');
}

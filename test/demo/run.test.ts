/**
 * `make run` must not rot: the local mesh comes up (the registry on its embedded directory and
 * every gateway a child process on a Unix socket and loopback TCP, registered there), the demo
 * partition mounts each gateway by service name and uses it, and `--once` stops it all; Ctrl-C
 * stops the gateways first (they deregister) and the registry last, whoever else got the signal.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { until } from '../support/until.js';

jest.setTimeout(90000);

test('the local mesh starts, the demo partition uses every gateway, and everything stops', async () => {
  const script = path.resolve(__dirname, '../../scripts/run.js');
  const proc = spawn(process.execPath, [script, '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 80000);
    proc.once('exit', (c) => { clearTimeout(t); resolve(c); });
  });
  expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
  for (const svc of ['registry', 'time', 'cons', 'net', 'storage']) expect(out).toMatch(new RegExp(`^  ${svc} +unix!\\S+  tcp!127\\.0\\.0\\.1!\\d+  health tcp!`, 'm'));
  // Same host: the directory's choice is the Unix socket, not TCP.
  for (const svc of ['time', 'cons', 'net', 'storage']) expect(out).toMatch(new RegExp(`^  mount ${svc} +on \\S+ +via unix!\\S+/${svc}\\.sock$`, 'm'));
  expect(out).toContain('/mnt/registry/services lists cons, net, storage, time');
  expect(out).toMatch(/time: \/dev\/time is 100 bytes/);
  expect(out).toContain('operator follows: "hello from the demo partition\\n"');
  expect(out).toContain('partition read "date\\n"');
  expect(out).toMatch(/HTTP GET through \/net\/tcp\/\d+: "HTTP\/1.1 200 OK" … "hello from \/demo over \/net\/tcp\\n"/);
  expect(out).toContain('wrote /n/data/hello.txt, read back "stored through 9P\\n", on disk "stored through 9P\\n"');
  expect(out).toContain('demo done; mesh stopped');
});

test('Ctrl-C on the whole process group stops the gateways before the registry, and leaves nothing running', async () => {
  const script = path.resolve(__dirname, '../../scripts/run.js');
  // A group of its own, signalled as a terminal signals its foreground group on Ctrl-C.
  const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  const t = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), 80000);
  try {
    await until('mesh up', () => out.includes('mesh is up') || proc.exitCode !== null, 60000);
    const pids = childPids(proc.pid!);
    expect(pids.length).toBe(5);
    process.kill(-proc.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    const order = [...err.matchAll(/^(\w+): SIGTERM, draining$/gm)].map((m) => m[1]);
    expect(order.sort()).toEqual(['cons', 'net', 'registry', 'storage', 'time']);
    expect(err.trimEnd().split('\n').pop()).toBe('registry: SIGTERM, draining');
    expect(err).not.toMatch(/warn|Deregister/);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  } finally {
    clearTimeout(t);
    if (proc.exitCode === null) process.kill(-proc.pid!, 'SIGKILL');
  }
});

/** The pids of `pid`'s children, from every process's /proc/<pid>/stat (field 4, after the name). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

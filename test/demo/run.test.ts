/**
 * `make run` must not rot: the local mesh comes up (the registry on its embedded directory and
 * every gateway a child process on a Unix socket and loopback TCP, registered there), the demo
 * partition mounts each gateway by service name and uses it, and `--once` stops it all.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

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

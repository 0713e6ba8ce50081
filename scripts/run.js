#!/usr/bin/env node
// `make run`: a local mesh — every gateway as its own process on Unix sockets and loopback TCP,
// on the embedded directory (no NATS needed) — and a demo partition that uses each of them
// through the 9P client, printing what it does. Ctrl-C stops the mesh; `--once` stops it after
// the demo (used by the tests so this script cannot rot).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('@prose/client');
const { L_O_RDONLY, L_O_RDWR, L_O_WRONLY } = require('@prose/protocol');

const root = path.resolve(__dirname, '..');
const once = process.argv.includes('--once');
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-mesh-'));
const say = (s) => process.stdout.write(s + '\n');
const children = [];

/** Starts services/<name> with args; resolves with its `listening` addresses once it is up. */
function start(name, args) {
  const script = path.join(root, 'services', name, 'dist', 'main.js');
  if (!fs.existsSync(script)) return Promise.resolve(undefined);
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${name} did not start`)), 15000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      if (!/^health /m.test(out)) return;
      clearTimeout(t);
      resolve({ name, proc, addrs: [...out.matchAll(/^listening (\S+)$/gm)].map((m) => m[1]), health: /^health (\S+)$/m.exec(out)[1] });
    });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`${name} exited with ${code}`)); });
  });
}

async function stopAll() {
  await Promise.all(children.map((p) => new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  })));
  fs.rmSync(runDir, { recursive: true, force: true });
}

async function attach(svc, version = '9P2000.L') {
  const c = await Client.connect(svc.addrs[0], { version });
  await c.attach({ uname: os.userInfo().username, nUname: process.getuid ? process.getuid() : 0 });
  return c;
}

async function demoTime(svc) {
  const c = await attach(svc, '9P2000');
  const t = (await c.readFile('time')).toString();
  const secs = Number(t.slice(0, 12));
  // bintime reads the same 32 bytes at any offset: one read, not a read-to-EOF.
  const bf = await (await c.root.walk('bintime')).open(0);
  const bin = await bf.read(0, 32);
  say(`  time: /time is ${t.length} bytes, ${new Date(secs * 1000).toISOString()}; /bintime ns ${bin.readBigUInt64BE(0)}`);
  c.close();
}

async function demoCons(svc) {
  const part = await attach(svc);
  const ctl = await (await part.root.walk('clone')).lopen(L_O_RDWR);
  const n = (await ctl.read(0, 32)).toString().trim();
  const cons = await (await part.root.walk([n, 'cons'])).lopen(L_O_RDWR);
  await cons.write(0, Buffer.from('hello from the demo partition\n'));
  const op = await attach(svc);
  const out = await (await op.root.walk([n, 'operator', 'out'])).lopen(L_O_RDONLY);
  say(`  cons: partition ${n} wrote; operator follows: ${JSON.stringify((await out.read(0, 4096)).toString())}`);
  await op.writeFile(`${n}/operator/in`, 'date\n');
  say(`  cons: operator typed "date"; partition read ${JSON.stringify((await cons.read(0, 4096)).toString())}`);
  op.close();
  part.close();
}

async function demoNet(svc) {
  const web = http.createServer((req, res) => res.end(`hello from ${req.url} over /net/tcp\n`));
  await new Promise((r) => web.listen(0, '127.0.0.1', r));
  const port = web.address().port;
  const c = await attach(svc);
  try {
    const cs = await (await c.root.walk('cs')).lopen(L_O_RDWR);
    await cs.write(0, Buffer.from(`tcp!localhost!${port}`));
    const line = (await cs.read(0, 1024)).toString().split('\n')[0];
    say(`  net: /net/cs says ${line}`);
    const ctl = await (await c.root.walk(['tcp', 'clone'])).lopen(L_O_RDWR);
    const n = (await ctl.read(0, 32)).toString().trim();
    await ctl.write(0, Buffer.from(`connect ${line.split(' ')[1]}`));
    const data = await (await c.root.walk(['tcp', n, 'data'])).lopen(L_O_RDWR);
    await data.write(0, Buffer.from(`GET /demo HTTP/1.0\r\nHost: localhost\r\n\r\n`));
    let reply = '';
    for (;;) {
      const b = await data.read(0, 8192);
      if (b.length === 0) break;
      reply += b.toString();
    }
    say(`  net: HTTP GET through /net/tcp/${n}: ${JSON.stringify(reply.split('\r\n')[0])} … ${JSON.stringify(reply.split('\r\n\r\n')[1])}`);
  } finally {
    c.close();
    web.close();
  }
}

async function demoStorage(svc, exportDir) {
  const c = await attach(svc);
  await c.writeFile('hello.txt', 'stored through 9P\n');
  const back = (await c.readFile('hello.txt')).toString();
  const onDisk = fs.readFileSync(path.join(exportDir, 'hello.txt'), 'utf8');
  say(`  storage: wrote hello.txt, read back ${JSON.stringify(back)}, on disk ${JSON.stringify(onDisk)}`);
  say(`  storage: the export holds ${(await c.list('')).map((e) => e.name).join(', ')}`);
  c.close();
}

async function main() {
  const exportDir = path.join(runDir, 'data');
  fs.mkdirSync(exportDir);
  say(`PROSE mesh: starting gateways (run dir ${runDir})`);
  const sock = (n) => `unix!${path.join(runDir, `${n}.sock`)}`;
  const common = (n) => ['--listen', sock(n), '--listen', 'tcp!127.0.0.1!0'];
  const started = await Promise.all([
    start('time', common('time')),
    start('cons', common('cons')),
    start('net', common('net')),
    start('storage', [...common('storage'), '--export', exportDir]),
  ]);
  const svcs = Object.fromEntries(started.filter(Boolean).map((s) => [s.name, s]));
  for (const s of Object.values(svcs)) say(`  ${s.name.padEnd(8)} ${s.addrs.join('  ')}  health ${s.health}`);
  say('demo partition:');
  if (svcs.time) await demoTime(svcs.time);
  if (svcs.cons) await demoCons(svcs.cons);
  if (svcs.net) await demoNet(svcs.net);
  if (svcs.storage) await demoStorage(svcs.storage, exportDir);
  if (once) {
    await stopAll();
    say('demo done; mesh stopped');
    return;
  }
  say('mesh is up; Ctrl-C stops it');
  const stop = () => stopAll().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(async (e) => {
  process.stderr.write(`run: ${e.stack || e}\n`);
  await stopAll();
  process.exit(1);
});

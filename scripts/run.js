#!/usr/bin/env node
// `make run`: a local mesh — the registry on its embedded directory (no NATS needed) and every
// gateway as its own process on a Unix socket and loopback TCP, registered in that directory —
// and a demo partition that builds its name space by looking the gateways up by name and uses
// each of them, printing what it does. Ctrl-C stops the mesh; `--once` stops it after the demo
// (used by the tests so this script cannot rot).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('@prose/client');
const { Directory, GrpcStore } = require('@prose/directory');
const { Namespace } = require('@prose/namespace');
const { meshEnv } = require('@prose/service');
const { L_O_RDONLY, L_O_RDWR, OREAD, ORDWR } = require('@prose/protocol');

const root = path.resolve(__dirname, '..');
const once = process.argv.includes('--once');
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-mesh-'));
const say = (s) => process.stdout.write(s + '\n');
const children = [];

/** Starts services/<name> with args; resolves with its `listening` addresses once it is up. */
function start(name, args) {
  const script = path.join(root, 'services', name, 'dist', 'main.js');
  if (!fs.existsSync(script)) return Promise.resolve(undefined);
  // A process group of its own: Ctrl-C at a terminal signals the whole foreground group, and
  // the registry would then go at the same time as the gateways that deregister from it. The
  // signal reaches this script alone, which stops them in order (stopAll).
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: meshEnv(), detached: true });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${name} did not start`)), 15000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      if (!/^health /m.test(out) || (args.includes('--registry') && !/^registered /m.test(out))) return;
      clearTimeout(t);
      resolve({ name, proc, addrs: [...out.matchAll(/^listening (\S+)$/gm)].map((m) => m[1]), health: /^health (\S+)$/m.exec(out)[1] });
    });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`${name} exited with ${code}`)); });
  });
}

function stopChild(p) {
  return new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

/** The gateways first (they deregister from the registry), then the registry. Idempotent. */
async function stopAll() {
  const [registry, ...gateways] = children;
  await Promise.all(gateways.map(stopChild));
  if (registry) await stopChild(registry);
  fs.rmSync(runDir, { recursive: true, force: true });
}

async function attach(svc, version = '9P2000.L') {
  const c = await Client.connect(svc.addrs[0], { version });
  await c.attach({ uname: os.userInfo().username, nUname: process.getuid ? process.getuid() : 0 });
  return c;
}

const text = async (f, count = 8192) => (await f.read(0, count)).toString();

async function demoTime(ns) {
  const t = (await ns.readFile('/dev/time')).toString();
  // bintime reads the same 32 bytes at any offset: one read, not a read-to-EOF.
  const bf = await ns.open('/dev/bintime', OREAD);
  const bin = await bf.read(0, 32);
  await bf.close();
  say(`  time: /dev/time is ${t.length} bytes, ${new Date(Number(t.slice(0, 12)) * 1000).toISOString()}; /dev/bintime ns ${bin.readBigUInt64BE(0)}`);
}

async function demoCons(ns, svc) {
  const ctl = await ns.open('/mnt/cons/clone', ORDWR);
  const n = (await text(ctl, 32)).trim();
  const cons = await ns.open(`/mnt/cons/${n}/cons`, ORDWR);
  await cons.write(0, Buffer.from('hello from the demo partition\n'));
  const op = await attach(svc);
  const out = await (await op.root.walk([n, 'operator', 'out'])).lopen(L_O_RDONLY);
  say(`  cons: partition ${n} wrote; operator follows: ${JSON.stringify((await out.read(0, 4096)).toString())}`);
  await op.writeFile(`${n}/operator/in`, 'date\n');
  say(`  cons: operator typed "date"; partition read ${JSON.stringify(await text(cons, 4096))}`);
  op.close();
  await cons.close();
  await ctl.close();
}

async function demoNet(ns) {
  const web = http.createServer((req, res) => res.end(`hello from ${req.url} over /net/tcp\n`));
  await new Promise((r) => web.listen(0, '127.0.0.1', r));
  const port = web.address().port;
  try {
    const cs = await ns.open('/net/cs', ORDWR);
    await cs.write(0, Buffer.from(`tcp!localhost!${port}`));
    const line = (await text(cs, 1024)).split('\n')[0];
    await cs.close();
    say(`  net: /net/cs says ${line}`);
    const ctl = await ns.open('/net/tcp/clone', ORDWR);
    const n = (await text(ctl, 32)).trim();
    await ctl.write(0, Buffer.from(`connect ${line.split(' ')[1]}`));
    const data = await ns.open(`/net/tcp/${n}/data`, ORDWR);
    await data.write(0, Buffer.from('GET /demo HTTP/1.0\r\nHost: localhost\r\n\r\n'));
    let reply = '';
    for (let b = await data.read(0, 8192); b.length > 0; b = await data.read(0, 8192)) reply += b.toString();
    say(`  net: HTTP GET through /net/tcp/${n}: ${JSON.stringify(reply.split('\r\n')[0])} … ${JSON.stringify(reply.split('\r\n\r\n')[1])}`);
    await data.close();
    await ctl.close();
  } finally {
    web.close();
  }
}

async function demoStorage(ns, exportDir) {
  const f = await ns.create('/n/data/hello.txt', 0o644, ORDWR);
  await f.write(0, Buffer.from('stored through 9P\n'));
  await f.close();
  const back = (await ns.readFile('/n/data/hello.txt')).toString();
  const onDisk = fs.readFileSync(path.join(exportDir, 'hello.txt'), 'utf8');
  say(`  storage: wrote /n/data/hello.txt, read back ${JSON.stringify(back)}, on disk ${JSON.stringify(onDisk)}`);
}

async function main() {
  // Installed before anything starts: the children are not in our process group, so nothing
  // else would stop them.
  let stopping;
  const stop = () => {
    stopping ??= stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('exit', () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });
  const exportDir = path.join(runDir, 'data');
  fs.mkdirSync(exportDir);
  say(`PROSE mesh: starting the registry and the gateways (run dir ${runDir})`);
  const sock = (n) => `unix!${path.join(runDir, `${n}.sock`)}`;
  const common = (n) => ['--listen', sock(n), '--listen', 'tcp!127.0.0.1!0'];
  const registry = await start('registry', common('registry'));
  const reg = ['--registry', registry.health];
  const started = await Promise.all([
    start('time', [...common('time'), ...reg]),
    start('cons', [...common('cons'), ...reg]),
    start('net', [...common('net'), ...reg]),
    start('storage', [...common('storage'), ...reg, '--export', exportDir]),
  ]);
  const svcs = Object.fromEntries([registry, ...started].map((s) => [s.name, s]));
  for (const s of Object.values(svcs)) say(`  ${s.name.padEnd(8)} ${s.addrs.join('  ')}  health ${s.health}`);

  say('demo partition: a name space built by service name from the directory');
  const directory = new Directory(new GrpcStore(registry.health));
  const ns = new Namespace({ directory });
  try {
    for (const [where, service] of [['/dev', 'time'], ['/mnt/cons', 'cons'], ['/net', 'net'], ['/n/data', 'storage']]) {
      await ns.mount(where, { service });
      const [best] = await directory.lookup(service);
      say(`  mount ${service.padEnd(7)} on ${where.padEnd(9)} via ${best.addr}`);
    }
    await ns.mount('/mnt/registry', { addr: registry.addrs[0] });
    say(`  /mnt/registry/services lists ${(await ns.readFile('/mnt/registry/services')).toString().trim().split('\n').join(', ')}`);
    await demoTime(ns);
    await demoCons(ns, svcs.cons);
    await demoNet(ns);
    await demoStorage(ns, exportDir);
  } finally {
    await ns.close();
    directory.close();
    await directory.store.close();
  }
  if (once) {
    await stopAll();
    say('demo done; mesh stopped');
    return;
  }
  say('mesh is up; Ctrl-C stops it');
}

main().catch(async (e) => {
  process.stderr.write(`run: ${e.stack || e}\n`);
  await stopAll();
  process.exit(1);
});

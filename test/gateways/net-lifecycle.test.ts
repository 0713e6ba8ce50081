/**
 * The net gateway's life as a process: SIGTERM drains in-flight requests and exits 0, and a
 * bounded seeded fuzz of random walks, opens, ctl writes, reads and clunks leaves it serving.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Client, Fid } from '@prose/client';
import { NinepError, OTRUNC } from '@prose/protocol';
import { netDial, netText } from '../support/net-dial.js';
import { rng } from '../support/prng.js';
import { healthStatus, mountNet, startNet, startTcp, startUdpEcho, type NetProc } from './net-helpers.js';

jest.setTimeout(60000);

function exited(svc: NetProc, ms: number): Promise<number | string> {
  return new Promise((resolve, reject) => {
    if (svc.proc.exitCode !== null) return resolve(svc.proc.exitCode);
    const t = setTimeout(() => reject(new Error(`no exit within ${ms} ms`)), ms);
    svc.proc.once('exit', (code, sig) => {
      clearTimeout(t);
      resolve(code ?? String(sig));
    });
  });
}

test('SIGTERM drains: an in-flight data read still gets its bytes, then the process exits 0', async () => {
  const svc = await startNet(['--drain-ms', '5000']);
  let client: Client | undefined;
  let peer: net.Socket | undefined;
  const tcp = await startTcp((s) => {
    peer = s;
  });
  try {
    const m = await mountNet(svc.addr);
    client = m.client;
    const conv = await netDial(m.root, 'tcp', `127.0.0.1!${tcp.port}`);
    const reading = conv.read(100);
    await new Promise((r) => setTimeout(r, 100));
    const exit = exited(svc, 10000);
    svc.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    expect(svc.proc.exitCode).toBeNull();
    peer!.write('late bytes');
    expect((await reading).toString()).toBe('late bytes');
    expect(await exit).toBe(0);
    expect(svc.stderr()).toContain('net: SIGTERM, draining');
  } finally {
    client?.close();
    await tcp.close();
    await svc.cleanup();
  }
});


test('a bounded fuzz of random ctl writes and random walks causes no crash', async () => {
  const seed = Number(process.env.PROSE_FUZZ_SEED ?? 0x9e7) >>> 0;
  const ops = Number(process.env.PROSE_NET_FUZZ_OPS ?? 600);
  const svc = await startNet(['--connect-timeout-ms', '500']);
  const echo = await startTcp((s) => s.pipe(s));
  const uecho = await startUdpEcho();
  const closed = await startTcp(() => {});
  const closedPort = closed.port;
  await closed.close();
  const clients: Client[] = [];
  const cleanups: Array<() => void> = [];
  try {
    const roots: Fid[] = [];
    for (const v of ['9P2000', '9P2000.u', '9P2000.L'] as const) {
      const m = await mountNet(svc.addr, v);
      clients.push(m.client);
      roots.push(m.root);
    }
    const r = rng(seed);
    const names = ['tcp', 'udp', 'cs', 'clone', 'stats', 'ctl', 'data', 'err', 'listen', 'local', 'remote', 'status', '0', '1', '2', '3', '..', '.', 'nonexistent', 'x'.repeat(200)];
    const messages = [
      `connect 127.0.0.1!${echo.port}`, `connect 127.0.0.1!${closedPort}`, `connect localhost!${echo.port}`, `connect ::1!${closedPort}`,
      'connect 10.0.0.1!80', 'connect 8.8.8.8!53', 'connect 0.0.0.0!80', `connect 127.0.0.1!${uecho.port}`, `connect 127.0.0.1!${echo.port} 0`,
      'connect 127.0.0.1!0', 'connect [::1]!1!r', 'connect 127.0.0.1!80 nonsense', 'announce *', 'announce 0', 'announce 80', 'announce 0.0.0.0!9999',
      'announce *!0', 'hangup', 'keepalive', 'keepalive 100', 'keepalive -1', 'headers', 'bogus', '', "'", 'connect',
      'tcp!localhost!http', 'udp!127.0.0.1!53', 'tcp!*!564', 'net!::1!9fs', 'garbage!!', 'GET / HTTP/1.0\r\n\r\n',
    ];
    const pool: Fid[] = [];
    const sockets: net.Socket[] = [];
    const udp = dgram.createSocket('udp4');
    cleanups.push(() => {
      for (const x of sockets) x.destroy();
      udp.close();
    });
    let nineErrors = 0;
    const expected = (e: unknown) => {
      if (e instanceof NinepError || (e instanceof Error && e.name === 'AbortError')) nineErrors++;
      else throw e;
    };
    for (let i = 0; i < ops; i++) {
      const root = r.pick(roots);
      const op = r.int(8);
      try {
        if (op <= 2 || pool.length === 0) {
          // a walk (random names; a clone; a file of a conversation that may exist), opened in a
          // random mode; a blocking open (listen) is given up after a while
          let path: string[];
          if (op === 0) path = Array.from({ length: 1 + r.int(3) }, () => r.pick(names));
          else if (op === 1) path = [r.pick(['tcp', 'udp']), 'clone'];
          else path = [r.pick(['tcp', 'udp']), String(r.int(5)), r.pick(['ctl', 'data', 'data', 'listen', 'err', 'status', 'local', 'remote'])];
          const f = await root.walk(path, { signal: AbortSignal.timeout(1000) });
          try {
            const mode = r.pick([0, 1, 2, 2, 0 | OTRUNC]);
            const signal = AbortSignal.timeout(50 + r.int(100));
            if (f.client.dialect === '9P2000.L') await f.lopen(mode & 3, { signal });
            else await f.open(mode, { signal });
            if (pool.length < 16) pool.push(f);
            else await f.clunk();
          } catch (e) {
            await f.clunk().catch(() => {});
            throw e;
          }
        } else if (op <= 4) {
          const f = r.pick(pool);
          const msg = r.int(8) === 0 ? Buffer.from(Array.from({ length: r.int(40) }, () => r.int(256))) : Buffer.from(r.pick(messages));
          await f.write(r.int(4) === 0 ? r.int(1 << 20) : 0, msg, { signal: AbortSignal.timeout(1000) });
        } else if (op <= 6) {
          const f = r.pick(pool);
          await f.read(r.pick([0, 0, 3, 1 << 20]), r.pick([1, 7, 52, 100, 8192]), { signal: AbortSignal.timeout(10 + r.int(30)) });
        } else if (r.int(2) === 0) {
          // a plain socket calls whatever conversation N has bound (announced or not)
          const proto = r.pick(['tcp', 'udp'] as const);
          const local = await netText(root, `${proto}/${r.int(5)}/local`, { signal: AbortSignal.timeout(1000) }).catch(() => '');
          const port = Number(local.trim().split('!')[1] ?? 0);
          if (port > 0 && proto === 'tcp') {
            const sock = net.connect(port, '127.0.0.1');
            sock.on('error', () => {});
            sock.write('a call\n');
            sockets.push(sock);
          } else if (port > 0) {
            udp.send('a datagram', port, '127.0.0.1');
          }
        } else {
          const k = r.int(pool.length);
          const [f] = pool.splice(k, 1);
          await f!.clunk();
        }
      } catch (e) {
        expected(e);
      }
    }
    for (const f of pool.splice(0)) await f.clunk().catch(() => {});
    expect(nineErrors).toBeGreaterThan(0);

    expect(svc.proc.exitCode).toBeNull();
    expect(await healthStatus(svc.health!)).toBe('SERVING');
    const root = roots[2]!;
    const tcpStats = await netText(root, 'tcp/stats');
    if (process.env.PROSE_FUZZ_VERBOSE) process.stderr.write(`fuzz seed ${seed}: ${nineErrors} 9P errors\ntcp/stats:\n${tcpStats}udp/stats:\n${await netText(root, 'udp/stats')}`);
    expect(tcpStats).toMatch(/^Conv: \d+\n/);
    const conv = await netDial(root, 'tcp', `127.0.0.1!${echo.port}`);
    await conv.write('still serving');
    expect((await conv.read()).toString()).toBe('still serving');
    await conv.close();
    // no unexpected throw inside the service (those are logged as "error: ... i/o error")
    expect(svc.stderr()).not.toMatch(/^error:/m);
  } finally {
    for (const f of cleanups) f();
    for (const c of clients) c.close();
    await echo.close();
    await uecho.close();
    await svc.cleanup();
  }
});

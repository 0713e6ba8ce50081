/**
 * The net gateway as a child process, used through @prose/client: HTTP through /net/tcp, bulk
 * transfers each way, announce/listen, UDP, the access policy, bad ctl messages, flushes.
 * Every peer is on loopback; every test is bounded; the child is always stopped.
 */
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import type { Client, Fid } from '@prose/client';
import { Errno } from '@prose/protocol';
import { NetConn, netAnnounce, netClone, netDial, netListen, netText, openRdwr } from '../support/net-dial.js';
import {
  healthStatus, mountNet, parseHttp, rejection, sha256, startHttp, startNet, startTcp, startUdpEcho, type NetProc, type Version,
} from './net-helpers.js';

jest.setTimeout(30000);

const BODY = 'hello through /net/tcp\n'.repeat(100);

let svc: NetProc;
let httpPeer: Awaited<ReturnType<typeof startHttp>>;
const clients: Client[] = [];

async function session(version: Version = '9P2000.L', addr = svc.addr): Promise<Fid> {
  const { client, root } = await mountNet(addr, version);
  clients.push(client);
  return root;
}

beforeAll(async () => {
  httpPeer = await startHttp((req, res) => {
    if (req.url === '/hello') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    } else {
      res.writeHead(404).end();
    }
  });
  svc = await startNet();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await svc?.cleanup();
  await httpPeer?.close();
});

/** dial(2) the Plan 9 way: ask cs, try each answer's clone until a connect works. */
async function dialViaCs(root: Fid, dest: string): Promise<NetConn> {
  const cs = await openRdwr(await root.walk('cs'));
  const lines: string[] = [];
  try {
    await cs.write(0, Buffer.from(dest));
    for (let off = 0; ;) {
      const b = await cs.read(off, 256);
      if (b.length === 0) break;
      off += b.length;
      lines.push(b.toString().trim());
    }
  } finally {
    await cs.clunk();
  }
  let last: unknown;
  for (const l of lines) {
    const [clone, addr] = l.split(' ');
    const proto = clone!.split('/')[2]!;
    try {
      return await netDial(root, proto, addr!);
    } catch (e) {
      last = e;
    }
  }
  throw last ?? new Error(`cs gave nothing for ${dest}`);
}

async function httpGet(root: Fid, target: string, pathName: string): Promise<ReturnType<typeof parseHttp>> {
  const conv = target.includes('!localhost!') ? await dialViaCs(root, target) : await netDial(root, 'tcp', target);
  try {
    await conv.write(`GET ${pathName} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    return parseHttp(Buffer.concat(await conv.readToEnd()));
  } finally {
    await conv.close();
  }
}

describe.each(['9P2000', '9P2000.u', '9P2000.L'] as const)('%s client', (version) => {
  test('HTTP GET through /net/tcp (clone, connect, write the request, read to end of file)', async () => {
    const root = await session(version);
    const r = await httpGet(root, `127.0.0.1!${httpPeer.port}`, '/hello');
    expect(r.status).toBe('HTTP/1.1 200 OK');
    expect(r.body.toString()).toBe(BODY);
    // and again by name, through cs and the system resolver
    const byName = await httpGet(root, `tcp!localhost!${httpPeer.port}`, '/hello');
    expect(byName.body.toString()).toBe(BODY);
  });

  test('a connect outside the allow-list is refused with a clear error', async () => {
    const root = await session(version);
    const conv = await netClone(root, 'tcp');
    try {
      const e = await rejection(conv.ctlMsg('connect 10.1.2.3!80'));
      // .u and .L carry the errno; a 9P2000 Rerror has only the text
      if (version !== '9P2000') expect(e.errno).toBe(Errno.EACCES);
      const why = 'connect 10.1.2.3!80: address not allowed by policy (connect-allow 127.0.0.0/8 ::1/128)';
      // 9P2000 and .u carry the text; .L carries only the errno, and err holds the reason
      if (version !== '9P2000.L') expect(e.message).toBe(why);
      expect(await netText(root, `${conv.dir}/err`)).toBe(why);
    } finally {
      await conv.close();
    }
  });
});

describe('bulk data', () => {
  const SIZE = 16 * 1024 * 1024;

  test.each(['9P2000.L', '9P2000'] as const)('16 MiB each way through data matches its sha256 (%s)', async (version) => {
    const root = await session(version);
    const up = crypto.randomBytes(SIZE);
    const down = crypto.randomBytes(SIZE);
    let upDigest!: Promise<string>;
    const peer = await startTcp((s) => {
      if (upDigest === undefined) {
        upDigest = new Promise((resolve) => {
          const h = crypto.createHash('sha256');
          let n = 0;
          s.on('data', (d) => { h.update(d); n += d.length; });
          s.on('end', () => resolve(`${n} ${h.digest('hex')}`));
        });
      } else {
        s.end(down);
      }
    });
    try {
      const sender = await netDial(root, 'tcp', `127.0.0.1!${peer.port}`);
      await sender.write(up);
      await sender.ctlMsg('hangup');
      expect(await upDigest).toBe(`${SIZE} ${sha256(up)}`);
      await sender.close();

      const receiver = await netDial(root, 'tcp', `127.0.0.1!${peer.port}`);
      const h = crypto.createHash('sha256');
      let n = 0;
      await receiver.readToEnd({ window: 2, onChunk: (b) => { h.update(b); n += b.length; } });
      expect(`${n} ${h.digest('hex')}`).toBe(`${SIZE} ${sha256(down)}`);
      await receiver.close();
    } finally {
      await peer.close();
    }
  });
});

describe('announce and listen', () => {
  test('listen accepts a connection made by a plain node:net socket; data flows both ways', async () => {
    const root = await session('9P2000.L', svc.unix);
    const ann = await netAnnounce(root, 'tcp', '*');
    try {
      const local = await netText(root, `${ann.dir}/local`);
      expect(local).toMatch(/^127\.0\.0\.1!\d+\n$/);
      const port = Number(local.trim().split('!')[1]);
      const listening = netListen(ann);
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      const call = await listening;
      try {
        expect(call.n).not.toBe(ann.n);
        expect(Number((await call.ctl.read(0, 16)).toString())).toBe(call.n);
        expect(await netText(root, `${call.dir}/remote`)).toBe(`127.0.0.1!${sock.localPort}\n`);
        expect(await netText(root, `${call.dir}/local`)).toBe(`127.0.0.1!${port}\n`);
        sock.write('from the socket');
        expect((await call.read()).toString()).toBe('from the socket');
        const got = new Promise<string>((r) => sock.once('data', (d) => r(d.toString())));
        await call.write('from /net');
        expect(await got).toBe('from /net');
        sock.end();
        expect((await call.read()).length).toBe(0);
      } finally {
        sock.destroy();
        await call.close();
      }
      expect(await netText(root, 'tcp/stats')).toMatch(/PassiveOpens: [1-9]/);
    } finally {
      await ann.close();
    }
  });
});

describe('udp', () => {
  test('echo round trip without headers (connect) and with headers (announce)', async () => {
    const root = await session('9P2000.L');
    const echo = await startUdpEcho();
    try {
      const conv = await netDial(root, 'udp', `127.0.0.1!${echo.port}`);
      await conv.write('one datagram');
      expect((await conv.read()).toString()).toBe('one datagram');
      await conv.close();

      const h = await netAnnounce(root, 'udp', '*', { headers: true });
      try {
        const lport = Number((await netText(root, `${h.dir}/local`)).trim().split('!')[1]);
        const hdr = Buffer.alloc(52);
        Buffer.from('00000000000000000000ffff7f000001', 'hex').copy(hdr, 0);
        hdr.writeUInt16BE(echo.port, 48);
        const data = await h.openData();
        await data.write(0, Buffer.concat([hdr, Buffer.from('with a header')]));
        const reply = await data.read(0, 4096);
        expect(reply.subarray(0, 16).toString('hex')).toBe('00000000000000000000ffff7f000001');
        expect(reply.subarray(16, 32).toString('hex')).toBe('00000000000000000000ffff7f000001');
        expect(reply.readUInt16BE(48)).toBe(echo.port);
        expect(reply.readUInt16BE(50)).toBe(lport);
        expect(reply.subarray(52).toString()).toBe('with a header');
      } finally {
        await h.close();
      }
    } finally {
      await echo.close();
    }
  });
});

describe('robustness', () => {
  test('garbage ctl messages return an error naming the message; other clients are served meanwhile', async () => {
    const root = await session('9P2000');
    const other = await session('9P2000.L');
    const conv = await netClone(root, 'tcp');
    const busy = httpGet(other, `127.0.0.1!${httpPeer.port}`, '/hello');
    try {
      for (const [msg, want] of [
        ['frobnicate now', 'bad ctl message: unknown command: "frobnicate now"'],
        ['connect', 'bad ctl message: connect wants 1 to 2 arguments: "connect"'],
        ['connect a b c', 'bad ctl message: connect wants 1 to 2 arguments: "connect a b c"'],
        ['announce 99999', 'bad address "99999": bad port "99999"'],
        ['connect 127.0.0.1!http', 'bad address "127.0.0.1!http": bad port "http"'],
        ["connect 'unterminated", 'bad ctl message: unterminated quote: "connect \'unterminated"'],
        ['keepalive -5', 'keepalive -5: want milliseconds'],
        ['headers', 'bad ctl message: unknown command: "headers"'],
        ['', 'bad ctl message: empty message: ""'],
      ] as const) {
        const e = await rejection(conv.ctlMsg(msg));
        expect(e.message).toBe(want);
      }
      const bin = await rejection(conv.ctl.write(0, Buffer.from([0xff, 0xfe, 0x00, 0x01])));
      expect(bin.message).toMatch(/^bad ctl message: unknown command: /);
      expect((await busy).body.toString()).toBe(BODY);
      // the conversation is still usable after all that
      await conv.ctlMsg(`connect 127.0.0.1!${httpPeer.port}`);
      expect(await netText(root, `${conv.dir}/status`)).toMatch(/^Established /);
    } finally {
      await conv.close();
    }
  });

  test('a blocked listen open and a blocked data read are cancelled by Tflush; the service stays healthy', async () => {
    const root = await session('9P2000.L');
    const ann = await netAnnounce(root, 'tcp', '*');
    const port = Number((await netText(root, `${ann.dir}/local`)).trim().split('!')[1]);
    try {
      const ac = new AbortController();
      const blocked = netListen(ann, { signal: ac.signal });
      await new Promise((r) => setTimeout(r, 100));
      ac.abort();
      const e = await rejection(blocked);
      expect(e.name).toBe('AbortError');
      expect(e.errno).toBe(Errno.EINTR);

      const sock = net.connect(port, '127.0.0.1');
      const call = await netListen(ann);
      try {
        const ac2 = new AbortController();
        const reading = call.read(1000, { signal: ac2.signal });
        await new Promise((r) => setTimeout(r, 100));
        ac2.abort();
        expect((await rejection(reading)).name).toBe('AbortError');
        expect(await healthStatus(svc.health!)).toBe('SERVING');
        expect(await healthStatus(svc.health!, 'prose.net')).toBe('SERVING');
        sock.write('still here');
        expect((await call.read()).toString()).toBe('still here');
      } finally {
        sock.destroy();
        await call.close();
      }
      expect(await netText(root, `${ann.dir}/status`)).toMatch(/calls 0 listeners 0\n$/);
    } finally {
      await ann.close();
    }
  });

  test('a conversation directory goes when its last file is closed', async () => {
    const root = await session('9P2000.u');
    const conv = await netDial(root, 'tcp', `127.0.0.1!${httpPeer.port}`);
    expect((await root.list('tcp')).map((e) => e.name)).toContain(String(conv.n));
    await conv.ctl.clunk();
    expect((await root.list('tcp')).map((e) => e.name)).toContain(String(conv.n));
    await conv.data!.clunk();
    expect((await root.list('tcp')).map((e) => e.name)).not.toContain(String(conv.n));
  });
});

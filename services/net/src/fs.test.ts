import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { Client, type Fid } from '@prose/client';
import { Errno, NinepError } from '@prose/protocol';
import { Server, silentLogger } from '@prose/server';
import { connPair, dial, listen } from '@prose/transport';
import { netAnnounce, netClone, netDial, netListen, netText } from '../../../test/support/net-dial.js';
import { until } from '../../../test/support/until.js';
import { UDPHDR_SIZE, decodeUdphdr, encodeUdphdr } from './addr.js';
import type { Resolver } from './cs.js';
import { NetFs, csRead } from './fs.js';
import { Policy } from './policy.js';

jest.setTimeout(20000);

/** Names for tests: good.test → 127.0.0.1, evil.test → 10.9.8.7, both.test → both. */
const fakeResolver: Resolver = {
  async lookup(host) {
    const table: Record<string, string[]> = {
      'good.test': ['127.0.0.1'],
      'evil.test': ['10.9.8.7'],
      'both.test': ['10.9.8.7', '127.0.0.1'],
      'v6.test': ['::1'],
    };
    const a = table[host];
    if (a === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a;
  },
};

async function mount(fs: NetFs, version: string = '9P2000.u'): Promise<{ c: Client; root: Fid; server: Server }> {
  const server = new Server(fs.tree(), { logger: silentLogger });
  const [a, b] = connPair();
  server.serve(a);
  const c = await Client.connect(b, { version });
  const root = await c.attach({ uname: 'glenda' });
  return { c, root, server };
}

function tcpServer(onConn: (s: net.Socket) => void): Promise<{ port: number; close(): void }> {
  return new Promise((resolve) => {
    const socks = new Set<net.Socket>();
    const srv = net.createServer((s) => {
      socks.add(s);
      s.on('close', () => socks.delete(s));
      onConn(s);
    });
    srv.listen(0, '127.0.0.1', () => resolve({
      port: (srv.address() as net.AddressInfo).port,
      close: () => {
        for (const s of socks) s.destroy();
        srv.close();
      },
    }));
  });
}

async function rejection(p: Promise<unknown>): Promise<NinepError> {
  try {
    await p;
  } catch (e) {
    return e as NinepError;
  }
  throw new Error('expected a rejection');
}

describe('net tree in-process', () => {
  let fs: NetFs;
  let c: Client;
  let root: Fid;
  let server: Server;

  beforeEach(async () => {
    fs = new NetFs({ resolver: fakeResolver, policy: new Policy() });
    ({ c, root, server } = await mount(fs));
  });

  afterEach(async () => {
    c.close();
    await server.close({ timeoutMs: 100 });
    fs.close();
  });

  test('the root holds cs, tcp and udp; tcp holds clone and stats', async () => {
    expect((await root.list()).map((e) => e.name).sort()).toEqual(['cs', 'tcp', 'udp']);
    expect((await root.list('tcp')).map((e) => e.name).sort()).toEqual(['clone', 'stats']);
  });

  test('clone reserves N, ctl reads N, the directory goes when its files are closed', async () => {
    const a = await netClone(root, 'tcp');
    const b = await netClone(root, 'tcp');
    expect([a.n, b.n]).toEqual([0, 1]);
    expect((await root.list('tcp')).map((e) => e.name).sort()).toEqual(['0', '1', 'clone', 'stats']);
    expect((await root.list('tcp/0')).map((e) => e.name).sort()).toEqual(['ctl', 'data', 'err', 'listen', 'local', 'remote', 'status']);
    expect(await netText(root, 'tcp/0/status')).toBe('Closed qin 0 qout 0 rx 0 tx 0\n');
    expect(await netText(root, 'tcp/0/local')).toBe('::!0\n');
    await a.close();
    expect((await root.list('tcp')).map((e) => e.name).sort()).toEqual(['1', 'clone', 'stats']);
    await b.close();
  });

  test('connect, data both ways, local/remote/status, hangup gives end of file', async () => {
    let peer!: net.Socket;
    const got: Buffer[] = [];
    const srv = await tcpServer((s) => {
      peer = s;
      s.on('data', (d) => got.push(d));
    });
    try {
      const conv = await netDial(root, 'tcp', `127.0.0.1!${srv.port}`);
      await conv.write('hello');
      await until('the peer to get hello', () => Buffer.concat(got).toString() === 'hello', 2000);
      peer.write('world');
      expect((await conv.read()).toString()).toBe('world');
      expect(await netText(root, `${conv.dir}/remote`)).toBe(`127.0.0.1!${srv.port}\n`);
      expect(await netText(root, `${conv.dir}/local`)).toMatch(/^127\.0\.0\.1!\d+\n$/);
      expect(await netText(root, `${conv.dir}/status`)).toMatch(/^Established qin 0 qout 0 rx 5 tx 5\n$/);
      peer.end();
      expect((await conv.read()).length).toBe(0);
      await conv.ctlMsg('hangup');
      expect(await netText(root, `${conv.dir}/status`)).toMatch(/^Closed /);
      expect(await netText(root, 'tcp/stats')).toMatch(/ActiveOpens: 1\n/);
      await conv.close();
    } finally {
      srv.close();
    }
  });

  test('a connect is checked against the policy after the name is resolved', async () => {
    const conv = await netClone(root, 'tcp');
    const e = await rejection(conv.ctlMsg('connect 10.1.2.3!80'));
    expect(e.message).toBe('connect 10.1.2.3!80: address not allowed by policy (connect-allow 127.0.0.0/8 ::1/128)');
    expect(e.errno).toBe(Errno.EACCES);
    expect(await netText(root, `${conv.dir}/err`)).toBe(e.message);
    expect((await rejection(conv.ctlMsg('connect evil.test!80'))).message).toBe('connect evil.test (10.9.8.7!80): address not allowed by policy (connect-allow 127.0.0.0/8 ::1/128)');
    expect((await rejection(conv.ctlMsg('connect ::ffff:10.1.2.3!80'))).message).toMatch(/^connect 10\.1\.2\.3!80: address not allowed/);
    expect((await rejection(conv.ctlMsg('connect 0.0.0.0!80'))).errno).toBe(Errno.EACCES);
    expect((await rejection(conv.ctlMsg('connect nosuch.test!80'))).message).toMatch(/^connect nosuch\.test!80: can't translate address: nosuch\.test \(ENOTFOUND\)$/);
    expect(await netText(root, 'tcp/stats')).toMatch(/Refused: 4\n/);
    // still idle: a good connect works afterwards
    const srv = await tcpServer(() => {});
    try {
      await conv.ctlMsg(`connect both.test!${srv.port}`);
      expect(await netText(root, `${conv.dir}/remote`)).toBe(`127.0.0.1!${srv.port}\n`);
    } finally {
      srv.close();
      await conv.close();
    }
  });

  test('garbage ctl messages name the message; connection refused names the target', async () => {
    const conv = await netClone(root, 'tcp');
    expect((await rejection(conv.ctlMsg('frobnicate 1 2'))).message).toBe('bad ctl message: unknown command: "frobnicate 1 2"');
    expect((await rejection(conv.ctlMsg('connect'))).message).toBe('bad ctl message: connect wants 1 to 2 arguments: "connect"');
    expect((await rejection(conv.ctlMsg('connect 127.0.0.1'))).message).toBe('bad address "127.0.0.1": want host!port');
    expect((await rejection(conv.ctlMsg('keepalive soon'))).message).toBe('keepalive soon: want milliseconds');
    const srv = await tcpServer(() => {});
    const port = srv.port;
    srv.close();
    await new Promise((r) => setTimeout(r, 50));
    const e = await rejection(conv.ctlMsg(`connect 127.0.0.1!${port}`));
    expect(e.message).toBe(`connect 127.0.0.1!${port}: connection refused`);
    expect(e.errno).toBe(Errno.ECONNREFUSED);
    expect(await netText(root, 'tcp/stats')).toMatch(/AttemptFails: 1\n/);
    await conv.close();
  });

  test('announce and listen: a call becomes a new conversation whose ctl the listen fid is', async () => {
    const ann = await netAnnounce(root, 'tcp', '*');
    const local = await netText(root, `${ann.dir}/local`);
    const port = Number(/!(\d+)\n$/.exec(local)![1]);
    expect(await netText(root, `${ann.dir}/status`)).toMatch(/^Listen /);
    const pending = netListen(ann);
    const sock = net.connect(port, '127.0.0.1');
    const call = await pending;
    expect(call.n).not.toBe(ann.n);
    expect(await netText(root, `${call.dir}/remote`)).toBe(`127.0.0.1!${sock.localPort}\n`);
    sock.write('ping');
    expect((await call.read()).toString()).toBe('ping');
    const back = new Promise<string>((r) => sock.once('data', (d) => r(d.toString())));
    await call.write('pong');
    expect(await back).toBe('pong');
    sock.destroy();
    await call.close();
    await ann.close();
  });

  test('announce refuses ports and addresses outside the policy', async () => {
    const conv = await netClone(root, 'tcp');
    expect((await rejection(conv.ctlMsg('announce 80'))).message).toBe('announce 80: port not allowed by policy (announce-ports 1024-65535)');
    expect((await rejection(conv.ctlMsg('announce 0.0.0.0!5000'))).message).toBe('announce 0.0.0.0!5000: address not allowed by policy (announce-addr 127.0.0.1)');
    await conv.close();
  });

  test('a blocked listen and a blocked data read end with a flush; the conversation still works', async () => {
    const ann = await netAnnounce(root, 'tcp', '*');
    const ac = new AbortController();
    const waiting = netListen(ann, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await rejection(waiting)).errno).toBe(Errno.EINTR);
    expect(await netText(root, `${ann.dir}/status`)).toMatch(/calls 0 listeners 0\n$/);

    const port = Number(/!(\d+)\n$/.exec(await netText(root, `${ann.dir}/local`))![1]);
    const sock = net.connect(port, '127.0.0.1');
    const call = await netListen(ann);
    const ac2 = new AbortController();
    const reading = call.read(100, { signal: ac2.signal });
    setTimeout(() => ac2.abort(), 50);
    expect((await rejection(reading)).errno).toBe(Errno.EINTR);
    sock.write('after');
    expect((await call.read()).toString()).toBe('after');
    sock.destroy();
    await call.close();
    await ann.close();
  });

  test('reads pause the socket beyond the buffer and resume it as they drain', async () => {
    fs.close();
    const small = new NetFs({ resolver: fakeResolver, bufferBytes: 64 * 1024 });
    const m = await mount(small);
    const total = 48 * 1024 * 1024;
    let sent = 0;
    const srv = await tcpServer((s) => {
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    try {
      const conv = await netDial(m.root, 'tcp', `127.0.0.1!${srv.port}`);
      await new Promise((r) => setTimeout(r, 200));
      // nothing read yet: the peer could only send what fits our buffer plus the kernel's (a few MiB)
      expect(sent).toBeLessThan(total);
      const status = await netText(m.root, `${conv.dir}/status`);
      expect(Number(/qin (\d+)/.exec(status)![1])).toBeLessThanOrEqual(64 * 1024 + 65536);
      let got = 0;
      await conv.readToEnd({ onChunk: (b) => void (got += b.length) });
      expect(got).toBe(total);
      await conv.close();
    } finally {
      srv.close();
      m.c.close();
      await m.server.close({ timeoutMs: 100 });
      small.close();
    }
  });

  test('udp: connect and echo; headers carry the 52-byte Udphdr', async () => {
    const echo = dgram.createSocket('udp4');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
    const eport = echo.address().port;
    try {
      const conv = await netDial(root, 'udp', `127.0.0.1!${eport}`);
      await conv.write('datagram');
      expect((await conv.read()).toString()).toBe('datagram');
      await conv.close();

      const h = await netAnnounce(root, 'udp', '*', { headers: true });
      const lport = Number(/!(\d+)\n$/.exec(await netText(root, `${h.dir}/local`))![1]);
      const hdr = encodeUdphdr({ raddr: '127.0.0.1', rport: eport, laddr: '127.0.0.1', ifcaddr: '127.0.0.1', lport });
      const data = await h.openData();
      await data.write(0, Buffer.concat([hdr, Buffer.from('with header')]));
      const reply = await data.read(0, 1000);
      expect(reply.length).toBe(UDPHDR_SIZE + 11);
      expect(decodeUdphdr(reply)).toEqual({ raddr: '127.0.0.1', rport: eport, laddr: '127.0.0.1', ifcaddr: '127.0.0.1', lport });
      expect(reply.subarray(UDPHDR_SIZE).toString()).toBe('with header');
      const bad = encodeUdphdr({ raddr: '10.0.0.1', rport: 53, laddr: '127.0.0.1', ifcaddr: '127.0.0.1', lport });
      expect((await rejection(data.write(0, bad))).message).toBe('send 10.0.0.1!53: address not allowed by policy (connect-allow 127.0.0.0/8 ::1/128)');
      await h.close();
    } finally {
      echo.close();
    }
  });

  test('udp announce without headers: a new peer is a call handed out by listen', async () => {
    const ann = await netAnnounce(root, 'udp', '*');
    const port = Number(/!(\d+)\n$/.exec(await netText(root, `${ann.dir}/local`))![1]);
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    try {
      const pending = netListen(ann);
      peer.send('first', port, '127.0.0.1');
      const call = await pending;
      expect(await netText(root, `${call.dir}/remote`)).toBe(`127.0.0.1!${peer.address().port}\n`);
      expect((await call.read()).toString()).toBe('first');
      peer.send('second', port, '127.0.0.1');
      expect((await call.read()).toString()).toBe('second');
      const back = new Promise<string>((r) => peer.once('message', (m) => r(m.toString())));
      await call.write('answer');
      expect(await back).toBe('answer');
      await call.close();
    } finally {
      peer.close();
      await ann.close();
    }
  });

  test('cs translates names, literals, * and service names; unknown hosts are an error', async () => {
    const cs = await root.walk('cs');
    await cs.open(2);
    const ask = async (q: string) => {
      await cs.write(0, Buffer.from(q));
      const lines: string[] = [];
      let off = 0;
      for (;;) {
        const b = await cs.read(off, 1000);
        if (b.length === 0) return lines;
        off += b.length;
        lines.push(b.toString());
      }
    };
    expect(await ask('tcp!good.test!80')).toEqual(['/net/tcp/clone 127.0.0.1!80\n']);
    expect(await ask('tcp!both.test!http')).toEqual(['/net/tcp/clone 10.9.8.7!80\n', '/net/tcp/clone 127.0.0.1!80\n']);
    expect(await ask('udp!::1!9fs')).toEqual(['/net/udp/clone ::1!564\n']);
    expect(await ask('tcp!*!564')).toEqual(['/net/tcp/clone 564\n']);
    expect((await rejection(ask('tcp!nosuch.test!80'))).message).toBe("cs: can't translate address: nosuch.test (ENOTFOUND)");
    expect((await rejection(ask('tcp!good.test!nosuchservice'))).message).toMatch(/^cs: unknown service "nosuchservice"/);
    expect((await rejection(ask('garbage'))).message).toBe('cs: bad query "garbage": want net!host!service');
    await cs.clunk();
  });

  test('9P2000.L: the refusal reaches the client as EACCES and the reason is in err', async () => {
    const m = await mount(fs, '9P2000.L');
    try {
      const conv = await netClone(m.root, 'tcp');
      const e = await rejection(conv.ctlMsg('connect 192.168.1.1!80'));
      expect(e.errno).toBe(Errno.EACCES);
      expect(await netText(m.root, `${conv.dir}/err`)).toBe('connect 192.168.1.1!80: address not allowed by policy (connect-allow 127.0.0.0/8 ::1/128)');
      await conv.close();
    } finally {
      m.c.close();
      await m.server.close({ timeoutMs: 100 });
    }
  });
});

test('max-conversations bounds the conversations of a protocol', async () => {
  const fs = new NetFs({ resolver: fakeResolver, maxConversations: 2 });
  const { c, root, server } = await mount(fs);
  try {
    const a = await netClone(root, 'tcp');
    const b = await netClone(root, 'tcp');
    const e = await rejection(netClone(root, 'tcp'));
    expect(e.message).toBe('tcp: no free conversations (max-conversations 2)');
    expect(e.errno).toBe(Errno.ENFILE);
    await netClone(root, 'udp').then((u) => u.close());
    await a.close();
    const again = await netClone(root, 'tcp');
    expect(again.n).toBe(0);
    await again.close();
    await b.close();
  } finally {
    c.close();
    await server.close({ timeoutMs: 100 });
    fs.close();
  }
});

test('csRead gives one line per read, by offset', () => {
  const lines = ['a b', 'cc dd'];
  expect(csRead(lines, 0, 100).toString()).toBe('a b\n');
  expect(csRead(lines, 4, 100).toString()).toBe('cc dd\n');
  expect(csRead(lines, 7, 100).toString()).toBe('dd\n');
  expect(csRead(lines, 10, 100).length).toBe(0);
  expect(csRead(lines, 0, 2).toString()).toBe('a ');
});

test('data writes over a transport that lends frames arrive intact while the peer is not reading', async () => {
  // The 9P session listens with lendFrames: each Twrite's data is a view of a receive buffer that
  // is reused for a later frame once the write is answered. The peer reads nothing for a while,
  // so the conversation's socket keeps writes queued after it answered them: those must be copies.
  const fs = new NetFs({ resolver: fakeResolver, policy: new Policy() });
  const server = new Server(fs.tree(), { logger: silentLogger });
  const l = await listen('tcp!127.0.0.1!0', (conn) => server.serve(conn), { lendFrames: true });
  const got: Buffer[] = [];
  let peer!: net.Socket;
  const srv = await tcpServer((s) => {
    peer = s;
    s.pause();
    s.on('data', (d) => got.push(d));
  });
  const c = await Client.connect(await dial(l.addr), { version: '9P2000.L' });
  try {
    const root = await c.attach({ uname: 'glenda' });
    const conv = await netDial(root, 'tcp', `127.0.0.1!${srv.port}`);
    const size = 8 * 1024;
    const count = 1024; // 8 MiB: more than the loopback socket buffers hold
    const expected = Buffer.alloc(size * count);
    for (let i = 0; i < count; i++) {
      const chunk = expected.subarray(i * size, (i + 1) * size);
      chunk.fill((i * 7 + 1) & 0xff);
      chunk.writeUInt32LE(i, 0);
    }
    setTimeout(() => peer.resume(), 300);
    for (let i = 0; i < count; i++) await conv.write(expected.subarray(i * size, (i + 1) * size));
    await until('the peer to get every byte', () => got.reduce((n, b) => n + b.length, 0) >= expected.length, 2000);
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    await conv.close();
  } finally {
    c.close();
    srv.close();
    await server.close({ timeoutMs: 100 });
    await l.close();
    fs.close();
  }
});

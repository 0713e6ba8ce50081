import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatFcall } from '@prose/protocol';
import { connPair, dial } from '@prose/transport';
import { Server } from './server.js';
import { silentLogger } from './options.js';
import { RawFs } from './test-rawfs.js';
import { Wire, memoryLogger } from './test-wire.js';

describe('Server', () => {
  test('listens on TCP and Unix sockets and serves each connection as its own session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prose-server-'));
    const server = new Server(new RawFs({ '/f': 'over a socket' }), { logger: silentLogger });
    try {
      const tcp = await server.listen('tcp!127.0.0.1!0');
      const unix = await server.listen(`unix!${join(dir, 's')}`);
      expect(tcp.addr).toMatch(/^tcp!127\.0\.0\.1!\d+$/);
      for (const addr of [tcp.addr, unix.addr]) {
        const wire = new Wire(await dial(addr));
        expect(await wire.version('9P2000.L', 1 << 20)).toBe('Rversion tag 65535 msize 1048576 version 9P2000.L');
        await wire.attach(0);
        await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
        await wire.rpc('Tlopen tag 1 fid 1 flags 0');
        expect(await wire.rpcText('Tread tag 2 fid 1 offset 0 count 100')).toBe('Rread tag 2 data "over a socket"');
      }
      expect(server.sessionCount).toBe(2);
    } finally {
      await server.close({ timeoutMs: 100 });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('close stops accepting, lets outstanding requests finish and answer, then ends the sessions', async () => {
    const fs = new RawFs({ '/f': 'done' });
    fs.read = () => new Promise<Buffer>((r) => setTimeout(() => r(Buffer.from('finished in time')), 50));
    const server = new Server(fs, { logger: silentLogger });
    const l = await server.listen('tcp!127.0.0.1!0');
    const wire = new Wire(await dial(l.addr));
    await wire.version();
    await wire.attach(0);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    wire.send('Tread tag 5 fid 1 offset 0 count 100');
    await new Promise((r) => setTimeout(r, 10));
    const closing = server.close({ timeoutMs: 2000 });
    await expect(dial(l.addr, { timeoutMs: 500 })).rejects.toBeDefined();
    expect(formatFcall(await wire.reply(5))).toBe('Rread tag 5 data "finished in time"');
    await closing;
    await wire.whenClosed();
    expect(fs.log.filter((x) => x.startsWith('destroy')).sort()).toEqual(['destroy 0 /', 'destroy 1 /f']);
    expect(server.sessionCount).toBe(0);
  });

  test('close gives up on requests that outlast timeoutMs: they are aborted, their replies dropped', async () => {
    const fs = new RawFs({ '/slow': '' });
    const server = new Server(fs, { logger: silentLogger });
    const [a, b] = connPair();
    server.serve(a);
    const wire = new Wire(b);
    await wire.version();
    await wire.attach(0);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [slow]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    wire.send('Tread tag 5 fid 1 offset 0 count 100');
    await wire.quiet(10);
    const t0 = Date.now();
    await server.close({ timeoutMs: 50 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    expect(fs.gate.size).toBe(0);
    await wire.whenClosed();
    expect(wire.pending).toEqual([]);
  });

  test('maxSessions and a closed server refuse connections with a logged reason', async () => {
    const { logger, lines } = memoryLogger();
    const server = new Server(new RawFs(), { logger, maxSessions: 1 });
    const [a] = connPair();
    const [c, d] = connPair();
    expect(server.serve(a)).toBeDefined();
    expect(server.serve(c)).toBeUndefined();
    expect(c.closed).toBe(true);
    expect(d.closed).toBe(true);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'connection refused', fields: { reason: 'too many sessions (1)' } });
    await server.close({ timeoutMs: 10 });
    const [e] = connPair();
    expect(server.serve(e)).toBeUndefined();
    expect(lines[1]?.fields?.reason).toBe('server closing');
    await expect(server.listen('tcp!127.0.0.1!0')).rejects.toThrow('server closing');
  });

  test('options are checked', () => {
    expect(() => new Server({}, { maxMsize: 100 })).toThrow(RangeError);
  });
});

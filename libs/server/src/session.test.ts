import { MsgType, NOFID, encode, formatFcall } from '@prose/protocol';
import { connPair, dial, type Conn, type ConnHandler } from '@prose/transport';
import { Server } from './server.js';
import { silentLogger } from './options.js';
import { RawFs } from './test-rawfs.js';
import { Wire, like, memoryLogger, startPair } from './test-wire.js';

async function ready(wire: Wire, version = '9P2000', msize = 8192): Promise<void> {
  await wire.version(version, msize);
  await wire.attach(0);
}

describe('version negotiation (version(5))', () => {
  test('msize is min(client, server) and becomes the Conn max frame', async () => {
    const [a, b] = connPair();
    const frames: number[] = [];
    const orig = a.setMaxFrame.bind(a);
    a.setMaxFrame = (n: number) => {
      frames.push(n);
      orig(n);
    };
    const server = new Server(new RawFs(), { logger: silentLogger, maxMsize: 65560 });
    const session = server.serve(a)!;
    const wire = new Wire(b);
    expect(frames).toEqual([65560]);
    expect(await wire.version('9P2000.u', 1 << 20)).toBe('Rversion tag 65535 msize 65560 version 9P2000.u');
    expect(frames).toEqual([65560, 65560]);
    expect(await wire.version('9P2000.L', 4096)).toBe('Rversion tag 65535 msize 4096 version 9P2000.L');
    expect(frames).toEqual([65560, 65560, 4096]);
    expect(session.msize).toBe(4096);
    expect(session.iounit).toBe(4096 - 24);
    expect(session.dialect).toBe('9P2000.L');
  });

  test('allows msize of at least 1 MiB by default', async () => {
    const { wire } = startPair(new RawFs());
    expect(await wire.version('9P2000.L', (1 << 20) + 24)).toBe('Rversion tag 65535 msize 1048600 version 9P2000.L');
  });

  test('an extension suffix is accepted only when configured', async () => {
    const one = startPair(new RawFs());
    expect(await one.wire.version('9P2000.L.prose.1')).toBe('Rversion tag 65535 msize 8192 version 9P2000.L');
    expect(one.session.extension).toBeUndefined();
    const two = startPair(new RawFs(), { extensions: ['prose.1'] });
    expect(await two.wire.version('9P2000.L.prose.1')).toBe('Rversion tag 65535 msize 8192 version 9P2000.L.prose.1');
    expect(two.session.extension).toBe('prose.1');
    expect(two.session.dialect).toBe('9P2000.L');
  });

  test('the dialects option limits what is accepted', async () => {
    const { wire } = startPair(new RawFs(), { dialects: ['9P2000'] });
    expect(await wire.version('9P2000.L')).toBe('Rversion tag 65535 msize 8192 version 9P2000');
    const only = startPair(new RawFs(), { dialects: ['9P2000.L'] });
    expect(await only.wire.version('9P2000')).toBe('Rversion tag 65535 msize 8192 version unknown');
  });

  test('Tversion aborts outstanding requests (no reply ever) and clunks every fid through destroyfid', async () => {
    const fs = new RawFs({ '/slow': 'x', '/tmp': 'y' });
    const { wire, session } = startPair(fs);
    await ready(wire);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [slow]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [tmp]');
    await wire.rpc('Topen tag 1 fid 2 mode 0100');
    wire.send('Tread tag 9 fid 1 offset 0 count 10');
    expect(await wire.quiet(20)).toBe(true);
    expect(fs.gate.size).toBe(1);
    expect(await wire.version()).toBe('Rversion tag 65535 msize 8192 version 9P2000');
    expect(fs.gate.size).toBe(0);
    expect(session.outstanding).toBe(0);
    expect(session.fidCount).toBe(0);
    expect(fs.log.filter((l) => /^(destroy|remove)/.test(l)).sort()).toEqual(
      ['destroy 0 /', 'destroy 1 /slow', 'destroy 2 /tmp', 'remove 2 /tmp'].sort(),
    );
    expect(fs.files.has('/tmp')).toBe(false);
    expect(await wire.quiet(20)).toBe(true);
    expect(await wire.rpcText('Tstat tag 9 fid 0')).toBe('Rerror tag 9 ename "unknown fid"');
  });

  test('a Tversion waits for asynchronous destroyfid hooks before answering', async () => {
    const fs = new RawFs();
    const order: string[] = [];
    fs.destroyfid = async () => {
      await new Promise((r) => setTimeout(r, 10));
      order.push('destroyed');
    };
    const { wire } = startPair(fs);
    await ready(wire);
    await wire.version().then(() => order.push('Rversion'));
    expect(order).toEqual(['destroyed', 'Rversion']);
  });
});

describe('tags and limits', () => {
  test('a duplicate tag is refused without disturbing the original request', async () => {
    const fs = new RawFs({ '/slow': '' });
    const { wire } = startPair(fs);
    await ready(wire, '9P2000.u');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [slow]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    wire.send('Tread tag 7 fid 1 offset 0 count 10');
    await wire.quiet(10);
    expect(await wire.rpcText('Tstat tag 7 fid 0')).toBe('Rerror tag 7 ename "duplicate tag" errno 22');
    fs.gate.wakeAll('fine');
    expect(await wire.rpcText('Tclunk tag 8 fid 0')).toBe('Rclunk tag 8');
    expect(formatFcall(await wire.next())).toBe('Rread tag 7 data "fine"');
  });

  test('maxOutstanding answers "too many outstanding requests" and the session goes on; a Tflush still gets through', async () => {
    const fs = new RawFs({ '/slow': '' });
    const { wire } = startPair(fs, { maxOutstanding: 2 });
    await ready(wire, '9P2000.u');
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [slow]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    wire.send('Tread tag 10 fid 1 offset 0 count 10');
    wire.send('Tread tag 11 fid 1 offset 0 count 10');
    expect(await wire.rpcText('Tstat tag 12 fid 0')).toBe('Rerror tag 12 ename "too many outstanding requests" errno 11');
    expect(await wire.rpcText('Tflush tag 13 oldtag 10')).toBe('Rflush tag 13');
    expect(like('Rstat tag 14 stat ...', await wire.rpcText('Tstat tag 14 fid 0'))).toBe('Rstat tag 14 stat ...');
    fs.gate.wakeAll('ok');
    expect(formatFcall(await wire.reply(11))).toBe('Rread tag 11 data "ok"');
  });

  test('maxFids answers "too many fids in session" and the session goes on', async () => {
    const { wire } = startPair(new RawFs(), { maxFids: 3 });
    await ready(wire, '9P2000.L');
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 1 wname []')).toBe('Rwalk tag 1 wqid []');
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 2 wname []')).toBe('Rwalk tag 1 wqid []');
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 3 wname []')).toBe('Rlerror tag 1 ecode 24');
    expect(await wire.rpcText('Tattach tag 1 fid 3 afid 4294967295 uname u aname ""')).toBe('Rlerror tag 1 ecode 24');
    expect(await wire.rpcText('Tclunk tag 1 fid 2')).toBe('Rclunk tag 1');
    expect(await wire.rpcText('Twalk tag 1 fid 0 newfid 3 wname []')).toBe('Rwalk tag 1 wqid []');
  });
});

describe('the one reply path', () => {
  test('unexpected throws go out as i/o error / EIO, the stack only to the log', async () => {
    for (const [dialect, want] of [
      ['9P2000', 'Rerror tag 2 ename "i/o error"'],
      ['9P2000.u', 'Rerror tag 2 ename "i/o error" errno 5'],
      ['9P2000.L', 'Rlerror tag 2 ecode 5'],
    ] as const) {
      const fs = new RawFs();
      fs.stat = () => {
        throw new TypeError('secret detail boom');
      };
      const { logger, lines } = memoryLogger();
      const { wire } = startPair(fs, { logger });
      await ready(wire, dialect);
      expect(await wire.rpcText('Tstat tag 2 fid 0')).toBe(want);
      const err = lines.find((l) => l.level === 'error')!;
      expect(err.msg).toBe('unexpected error in handler');
      expect(String(err.fields?.stack)).toContain('secret detail boom');
      expect(err.fields?.request).toBe('Tstat');
    }
  });

  test('Node system errors map by their code; NinepErrors keep their text and errno', async () => {
    const fs = new RawFs();
    fs.stat = () => {
      throw Object.assign(new Error('ENOENT: no such file, stat /x'), { code: 'ENOENT' });
    };
    const { logger, lines } = memoryLogger();
    const { wire } = startPair(fs, { logger });
    await ready(wire, '9P2000.u');
    expect(await wire.rpcText('Tstat tag 2 fid 0')).toBe('Rerror tag 2 ename "file not found" errno 2');
    expect(lines).toEqual([]);
  });

  test('an Rread payload goes to the Conn as the very Buffer the Srv returned (no copy)', async () => {
    const payload = Buffer.from('zero-copy payload');
    const fs = new RawFs({ '/f': '' });
    fs.read = () => payload;
    const [a, b] = connPair();
    const sent: Array<Buffer | readonly Buffer[]> = [];
    const send = a.send.bind(a);
    a.send = (f) => {
      sent.push(f);
      return send(f);
    };
    new Server(fs, { logger: silentLogger }).serve(a);
    const wire = new Wire(b);
    await ready(wire);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    expect(formatFcall(await wire.rpc('Tread tag 3 fid 1 offset 0 count 100'))).toBe('Rread tag 3 data "zero-copy payload"');
    const last = sent[sent.length - 1] as readonly Buffer[];
    expect(Array.isArray(last)).toBe(true);
    expect(last[1]).toBe(payload);
  });

  test('a read answer longer than count is cut to count (a view)', async () => {
    const fs = new RawFs({ '/f': '' });
    fs.read = () => Buffer.from('0123456789');
    const { wire } = startPair(fs);
    await ready(wire);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    expect(await wire.rpcText('Tread tag 3 fid 1 offset 0 count 4')).toBe('Rread tag 3 data "0123"');
  });

  test('a reply that does not fit the msize becomes an error', async () => {
    const fs = new RawFs();
    const stat = fs.stat.bind(fs);
    fs.stat = (f) => ({ ...(stat(f) as ReturnType<RawFs['dir']>), name: 'n'.repeat(400) });
    const { wire } = startPair(fs);
    await ready(wire, '9P2000.u', 256);
    expect(await wire.rpcText('Tstat tag 2 fid 0')).toBe('Rerror tag 2 ename "reply does not fit the msize" errno 90');
  });

  test('requests run concurrently: a slow one does not hold up the others', async () => {
    const fs = new RawFs({ '/slow': '', '/fast': 'quick' });
    fs.async = true;
    const { wire } = startPair(fs);
    await ready(wire);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [slow]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    await wire.rpc('Twalk tag 1 fid 0 newfid 2 wname [fast]');
    await wire.rpc('Topen tag 1 fid 2 mode 0');
    wire.send('Tread tag 10 fid 1 offset 0 count 10');
    for (let t = 11; t < 20; t++) wire.send(`Tread tag ${t} fid 2 offset 0 count 10`);
    for (let t = 11; t < 20; t++) expect(formatFcall(await wire.reply(t))).toBe(`Rread tag ${t} data "quick"`);
    fs.gate.wakeAll('late');
    expect(formatFcall(await wire.reply(10))).toBe('Rread tag 10 data "late"');
  });

  test('the -D trace prints every T- and R-message in the text form, payloads cut at 64 bytes', async () => {
    const lines: string[] = [];
    const fs = new RawFs({ '/f': 'x'.repeat(100) });
    const { wire, session } = startPair(fs, { trace: (l) => lines.push(l) });
    await ready(wire);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    await wire.rpc('Tread tag 2 fid 1 offset 0 count 100');
    const id = session.id;
    expect(lines[0]).toBe(`${id} <- Tversion tag 65535 msize 8192 version 9P2000`);
    expect(lines[1]).toBe(`${id} -> Rversion tag 65535 msize 8192 version 9P2000`);
    expect(lines).toContain(`${id} <- Twalk tag 1 fid 0 newfid 1 wname [f]`);
    expect(lines[lines.length - 1]).toBe(`${id} -> Rread tag 2 data "${'x'.repeat(64)}"...(100 bytes)`);
    expect(lines.length).toBe(10);
  });
});

describe('transport', () => {
  class SlowConn implements Conn {
    remote = 'slow!peer';
    local = 'slow!me';
    closed = false;
    handler!: ConnHandler;
    full = true;
    calls: string[] = [];
    private release: (() => void) | undefined;
    start(h: ConnHandler): void {
      this.handler = h;
    }
    send(): boolean {
      this.calls.push('send');
      return !this.full;
    }
    drain(): Promise<void> {
      this.calls.push('drain');
      return new Promise((r) => (this.release = r));
    }
    pause(): void {
      this.calls.push('pause');
    }
    resume(): void {
      this.calls.push('resume');
    }
    setMaxFrame(): void {}
    close(err?: Error): void {
      this.closed = true;
      this.handler.close(err);
    }
    unblock(): void {
      this.full = false;
      this.release?.();
    }
  }

  test('when the Conn is full the session stops reading until it drains', async () => {
    const c = new SlowConn();
    new Server(new RawFs(), { logger: silentLogger }).serve(c);
    c.handler.frame(encode({ type: MsgType.Tversion, tag: 0xffff, msize: 8192, version: '9P2000' }, '9P2000'));
    await new Promise((r) => setImmediate(r));
    // paused for the Tversion; the full Conn keeps it paused past the Rversion
    expect(c.calls).toEqual(['pause', 'send', 'drain']);
    c.unblock();
    await new Promise((r) => setImmediate(r));
    expect(c.calls.slice(-1)).toEqual(['resume']);
    c.handler.frame(encode({ type: MsgType.Tattach, tag: 1, fid: 0, afid: NOFID, uname: 'u', aname: '' }, '9P2000'));
    await new Promise((r) => setImmediate(r));
    expect(c.calls.slice(-1)).toEqual(['send']);
  });

  test('a malformed frame closes that session only, with the reason logged', async () => {
    const { logger, lines } = memoryLogger();
    const server = new Server(new RawFs(), { logger });
    const [a, b] = connPair();
    const [c, d] = connPair();
    server.serve(a);
    server.serve(c);
    const bad = new Wire(b);
    const good = new Wire(d);
    await bad.version();
    await good.version();
    bad.sendRaw(Buffer.from('0a000000780100000000', 'hex'));
    await bad.whenClosed();
    const warn = lines.find((l) => l.level === 'warn')!;
    expect(warn.msg).toBe('malformed message: closing session');
    expect(String(warn.fields?.reason)).toMatch(/malformed 9P message/);
    expect(await good.attach()).toBe('Rattach tag 1 qid (0000000000000000 0 d)');
    expect(server.sessionCount).toBe(1);
  });

  test('a hang-up aborts outstanding requests and destroys every fid', async () => {
    const fs = new RawFs({ '/slow': '' });
    const { wire, server } = startPair(fs);
    await ready(wire);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [slow]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    wire.send('Tread tag 2 fid 1 offset 0 count 1');
    await wire.quiet(10);
    expect(fs.gate.size).toBe(1);
    wire.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(fs.gate.size).toBe(0);
    expect(fs.log.filter((l) => l.startsWith('destroy')).sort()).toEqual(['destroy 0 /', 'destroy 1 /slow']);
    expect(server.sessionCount).toBe(0);
  });
});

describe('frames the transport refuses', () => {
  test('a frame larger than the msize closes the session with a warning naming it', async () => {
    const { logger, lines } = memoryLogger();
    const server = new Server(new RawFs(), { logger });
    try {
      const l = await server.listen('tcp!127.0.0.1!0');
      const wire = new Wire(await dial(l.addr));
      await wire.version('9P2000', 256);
      const big = Buffer.alloc(300);
      big.writeUInt32LE(300, 0);
      big[4] = MsgType.Twrite;
      wire.sendRaw(big);
      await wire.whenClosed();
    } finally {
      await server.close({ timeoutMs: 10 });
    }
    const warn = lines.find((x) => x.level === 'warn' && x.msg === 'session closed');
    expect(String(warn?.fields?.reason)).toBe('frame size 300 exceeds msize 256');
  });
});

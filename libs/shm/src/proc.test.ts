/**
 * Between processes (the native addon): every mode both ways, 64 channels on one endpoint,
 * SIGKILL of either side, hostile dialers, handshake failures, segment clean-up, and the
 * package without its addon. Children run test-fixtures/peer.js against the built dist.
 */
import * as fs from 'node:fs';
import { dialShm, haveAddon, listenShm, SHM_MODES, ShmError, type ShmConn } from './index.js';
import { echoAll, killAll, makeFrame, pingPong, sleep, spawnPeer, tmpSock } from './test-util.js';

const MiB = 1 << 20;
const d = haveAddon() ? describe : describe.skip;
if (!haveAddon()) console.warn('@prose/shm: native addon not built; process tests skipped (run npm run build:native -w @prose/shm)');

afterEach(killAll);

function listenCollect(addr: string, opts = {}) {
  const conns: ShmConn[] = [];
  const waiters: Array<() => void> = [];
  const listener = listenShm(addr, (c) => {
    conns.push(c);
    for (const w of waiters.splice(0)) w();
  }, opts);
  const next = async (n = conns.length + 1, timeoutMs = 10000): Promise<ShmConn> => {
    const t0 = Date.now();
    while (conns.length < n) {
      if (Date.now() - t0 > timeoutMs) throw new Error('no connection');
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return conns[n - 1]!;
  };
  return { listener, conns, next };
}

d('processes', () => {
  describe.each(SHM_MODES)('mode %s', (mode) => {
    test('child dials our listener: frames 7 B..1 MiB+24 and 500 ping-pongs', async () => {
      const addr = `shm!${tmpSock(mode)}`;
      const { listener, next } = listenCollect(addr, { ringSize: 65536, slotCount: 4, slotSize: 65536 + 4096 });
      const l = await listener;
      const child = spawnPeer(['dial', addr, mode]);
      const m = await child.line(/connected (\w+)/);
      expect(SHM_MODES).toContain(m[1]);
      const c = await next(1);
      const sizes = [7, 64, 1024, 8192 + 23, 65536 + 23, MiB + 24, 64];
      const got = await echoAll(c, sizes);
      got.forEach((f, i) => expect(f.equals(makeFrame(sizes[i]!, i))).toBe(true));
      c.close();
      await l.close();
    });

    test('we dial a child listener and ping-pong 500 frames', async () => {
      const addr = `shm!${tmpSock(`s${mode}`)}`;
      const child = spawnPeer(['serve', addr]);
      await child.line(/listening/);
      const c = await dialShm(addr, { mode });
      expect(await pingPong(c, 500)).toBe(500);
      c.close();
    });
  });

  test('64 channels on one endpoint, echoing concurrently', async () => {
    const addr = `shm!${tmpSock('many')}`;
    const child = spawnPeer(['serve', addr, 'notify']);
    await child.line(/listening/);
    const conns = await Promise.all(Array.from({ length: 64 }, () => dialShm(addr, { mode: 'notify', ringSize: 16384, slotCount: 2, slotSize: 8192 })));
    const results = await Promise.all(conns.map((c, k) => echoAll(c, [64 + k, 5000, 100000, 7])));
    results.forEach((got, k) => {
      expect(got[0]!.equals(makeFrame(64 + k, 0))).toBe(true);
      expect(got[2]!.equals(makeFrame(100000, 2))).toBe(true);
    });
    for (const c of conns) c.close();
  });

  test('SIGKILL of the dialer: our Conn closes with peer-gone within 1 s', async () => {
    const addr = `shm!${tmpSock('kill')}`;
    const { listener, next } = listenCollect(addr);
    const l = await listener;
    const child = spawnPeer(['dial', addr, 'notify']);
    await child.line(/connected/);
    const c = await next(1);
    const closed = new Promise<Error | undefined>((resolve) => c.start({ frame: () => {}, close: resolve }));
    const t0 = Date.now();
    child.proc.kill('SIGKILL');
    const err = await closed;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(ShmError);
    expect((err as ShmError).reason).toBe('peer-gone');
    await l.close();
  });

  test('SIGKILL of the server: a pending exchange fails within 1 s, in every mode', async () => {
    const addr = `shm!${tmpSock('skill')}`;
    const child = spawnPeer(['serve', addr]);
    await child.line(/listening/);
    const conns = await Promise.all(SHM_MODES.map((mode) => dialShm(addr, { mode })));
    const closed = conns.map((c) => new Promise<Error | undefined>((resolve) => c.start({ frame: () => {}, close: resolve })));
    const t0 = Date.now();
    child.proc.kill('SIGKILL');
    for (const p of closed) {
      const err = await p;
      expect((err as ShmError).reason).toBe('peer-gone');
    }
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test.each(['head', 'tail', 'record', 'slot', 'size', 'kind'])('hostile dialer (%s): our Conn closes with a corrupt error', async (what) => {
    const addr = `shm!${tmpSock(`h${what}`)}`;
    const { listener, next } = listenCollect(addr);
    const l = await listener;
    const child = spawnPeer(['hostile', addr, what]);
    const c = await next(1);
    const closed = new Promise<Error | undefined>((resolve) => c.start({ frame: (f) => c.send(f), close: resolve }));
    await child.line(/corrupted/);
    let timer: NodeJS.Timeout | undefined;
    const err = await Promise.race([closed, new Promise<Error>((r) => (timer = setTimeout(() => r(new Error('not closed')), 3000)))]);
    clearTimeout(timer);
    await l.close();
    expect(err).toBeInstanceOf(ShmError);
    expect((err as ShmError).reason).toBe('corrupt');
    expect((err as ShmError).code).toBe('EPROTO');
  });

  describe('bounded blocking wait (blockUs) of a notify dialer', () => {
    test('replies within the bound are taken in the wait, not through the event loop', async () => {
      const addr = `shm!${tmpSock('block')}`;
      const child = spawnPeer(['serve', addr]);
      await child.line(/listening/);
      const c = await dialShm(addr, { mode: 'notify', blockUs: 5000 });
      expect(c.blockUs).toBe(5000);
      expect(await pingPong(c, 500)).toBe(500);
      expect(c.blockStats.hits).toBeGreaterThan(0);
      expect(c.blockStats.misses).toBeLessThan(50);
      c.close();
      // not for a side that polls, nor beyond the cap
      const p = await dialShm(addr, { mode: 'poll', blockUs: 5000, sharedCpu: false });
      expect(p.blockUs).toBe(0);
      p.close();
      const big = await dialShm(addr, { mode: 'notify', blockUs: 1e9 });
      expect(big.blockUs).toBe(10000);
      big.close();
    });

    test('a reply after the bound comes through the event loop, which was held at most the bound', async () => {
      const addr = `shm!${tmpSock('slow')}`;
      const child = spawnPeer(['serve-slow', addr, '60']);
      await child.line(/listening/);
      const c = await dialShm(addr, { mode: 'notify', blockUs: 2000 });
      let maxGap = 0;
      let last = performance.now();
      let probing = true;
      const probe = () => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        if (probing) setImmediate(probe);
      };
      setImmediate(probe);
      const t0 = performance.now();
      expect(await pingPong(c, 3)).toBe(3);
      probing = false;
      expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 55);
      expect(c.blockStats.misses).toBeGreaterThanOrEqual(1);
      expect(c.blockStats.hits).toBe(0);
      expect(maxGap).toBeLessThan(30); // the 60 ms wait for each reply was spent in the loop
      c.close();
    });

    test('the server dying while we block is noticed within 1 s', async () => {
      const addr = `shm!${tmpSock('blockkill')}`;
      const child = spawnPeer(['serve-slow', addr, '100000']);
      await child.line(/listening/);
      const c = await dialShm(addr, { mode: 'notify', blockUs: 10000 });
      const closed = new Promise<Error | undefined>((resolve) => c.start({ frame: () => {}, close: resolve }));
      c.send(makeFrame(64, 0)); // the bounded wait starts once this turn's work is done
      const t0 = Date.now();
      child.proc.kill('SIGKILL');
      const err = await closed;
      expect(Date.now() - t0).toBeLessThan(1000);
      expect((err as ShmError).reason).toBe('peer-gone');
    });

    test('a hostile server: the blocked dialer closes with a corrupt error', async () => {
      const addr = `shm!${tmpSock('blockhostile')}`;
      const child = spawnPeer(['serve-hostile', addr]);
      await child.line(/listening/);
      const c = await dialShm(addr, { mode: 'notify', blockUs: 10000 });
      const closed = new Promise<Error | undefined>((resolve) => c.start({ frame: () => {}, close: resolve }));
      c.send(makeFrame(64, 0));
      await child.line(/corrupted/);
      let timer: NodeJS.Timeout | undefined;
      const err = await Promise.race([closed, new Promise<Error>((r) => (timer = setTimeout(() => r(new Error('not closed')), 3000)))]);
      clearTimeout(timer);
      expect(err).toBeInstanceOf(ShmError);
      expect((err as ShmError).reason).toBe('corrupt');
      expect(c.blockStats.hits + c.blockStats.misses).toBeGreaterThan(0);
    });

    test('idle CPU stays ~0 with the channel open', async () => {
      const addr = `shm!${tmpSock('blockidle')}`;
      const child = spawnPeer(['serve', addr]);
      await child.line(/listening/);
      const c = await dialShm(addr, { mode: 'notify', blockUs: 5000 });
      expect(await pingPong(c, 200)).toBe(200);
      const u0 = process.cpuUsage();
      await sleep(500);
      const u = process.cpuUsage(u0);
      expect((u.user + u.system) / 1000).toBeLessThan(25); // < 5% of a core
      c.close();
    });
  });

  test('handshake failures are ShmErrors with a reason', async () => {
    await expect(dialShm(`shm!${tmpSock('none')}`)).rejects.toMatchObject({ reason: 'handshake' });
    await expect(dialShm('shm!relative/path')).rejects.toMatchObject({ reason: 'invalid' });
    // a listener that is gone: its socket file is removed on close
    const addr = `shm!${tmpSock('gone')}`;
    const l = await listenShm(addr, () => {});
    await l.close();
    await expect(dialShm(addr)).rejects.toMatchObject({ reason: 'handshake' });
    // a live listener cannot be listened on twice; a stale socket file is replaced
    const addr2 = `shm!${tmpSock('twice')}`;
    const l2 = await listenShm(addr2, () => {});
    await expect(listenShm(addr2, () => {})).rejects.toMatchObject({ reason: 'invalid' });
    await l2.close();
  });

  test('segments are freed when both sides are gone (orderly close and SIGKILL): no mapping, no fd, no /dev/shm name', async () => {
    const shmBefore = fs.readdirSync('/dev/shm').length;
    const addr = `shm!${tmpSock('clean')}`;
    const server = spawnPeer(['serve', addr], ['--expose-gc']);
    await server.line(/listening/);
    const mine = await Promise.all([dialShm(addr), dialShm(addr)]);
    for (const c of mine) c.start({ frame: () => {}, close: () => {} });
    const killed = spawnPeer(['dial', addr, 'notify']);
    await killed.line(/connected/);
    server.proc.stdin!.write('gc\n');
    const during = await server.line(/maps (\d+) live (\d+)/);
    expect(Number(during[2])).toBe(3);
    expect(Number(during[1])).toBeGreaterThanOrEqual(3);
    // our process holds the mappings but no fd of them
    const memfds = () => fs.readdirSync('/proc/self/fd').filter((f) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${f}`).includes('memfd:prose-shm');
      } catch {
        return false;
      }
    }).length;
    expect(memfds()).toBe(0);
    for (const c of mine) c.close();
    await killed.kill('SIGKILL');
    await sleep(100);
    server.proc.stdin!.write('gc\n');
    const after = await server.line(/maps (\d+) live (\d+)/);
    expect(Number(after[2])).toBe(0);
    expect(Number(after[1])).toBe(0);
    expect(fs.readdirSync('/dev/shm').length).toBeLessThanOrEqual(shmBefore);
  });
});

test('without the addon: the package loads, process mode fails with a clear reason, thread mode works', async () => {
  const child = spawnPeer(['noaddon', `shm!${tmpSock('noaddon')}`], [], { ...process.env, PROSE_SHM_ADDON: '/nonexistent/prose_shm.node' });
  const m = await child.line(/dial (\S+) (\S+): (.*)\n/);
  expect(m[1]).toBe('no-addon');
  expect(m[2]).toBe('EOPNOTSUPP');
  expect(m[3]).toMatch(/npm run build:native -w @prose\/shm/);
  const p = await child.line(/pair ok (\d+) addon (\w+)/);
  expect(p[1]).toBe('7');
  expect(p[2]).toBe('false');
});

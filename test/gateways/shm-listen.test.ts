/**
 * A gateway listening on a shared-memory channel (`--listen shm!/path`) next to TCP, reached by
 * dial string from the plain client and from a partition's name space, like any other address.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { Client } from '@prose/client';
import { Namespace } from '@prose/namespace';
import { haveAddon } from '@prose/shm';
import { startServiceProc, type ServiceProc } from '../support/child.js';

const maybe = haveAddon() ? describe : describe.skip;

maybe('time over shm!', () => {
  let dir: string;
  let svc: ServiceProc;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-shm-svc-'));
    svc = await startServiceProc('time', ['--listen', `shm!${path.join(dir, 'time.sock')}`, '--listen', 'tcp!127.0.0.1!0', '--health', 'none']);
  });
  afterAll(async () => {
    await svc?.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('the service announces its shm address and the client reads time through it', async () => {
    const shm = svc.addrs.find((a) => a.startsWith('shm!'));
    expect(shm).toBe(`shm!${path.join(dir, 'time.sock')}`);
    const c = await Client.connect(shm!, { version: '9P2000' });
    try {
      await c.attach({ uname: 'glenda' });
      const t = await c.readFile('time');
      expect(t.length).toBe(100);
      expect(Math.abs(Number(t.subarray(0, 12).toString()) - Date.now() / 1000)).toBeLessThan(2);
    } finally {
      c.close();
    }
  });

  test('a name space mounts the shm address', async () => {
    const ns = new Namespace();
    try {
      await ns.mount('/dev', { addr: svc.addrs.find((a) => a.startsWith('shm!'))! });
      expect((await ns.readFile('/dev/time')).length).toBe(100);
      expect(await ns.list('/dev')).toEqual(expect.arrayContaining(['time', 'bintime', 'nsec']));
    } finally {
      await ns.close();
    }
  });
});

/**
 * The registry service as a child process, on NATS (a real nats-server) and on the embedded
 * store: gRPC Health, Registry {Register, List, Lookup, Watch, Deregister} and reflection from a
 * grpc-js client; /chan and the blocking events file from the plain 9P client, flush included;
 * lease expiry seen everywhere.
 */
import * as os from 'node:os';
import { Client, AbortError } from '@prose/client';
import { startServiceProc, type ServiceProc } from '../support/child.js';
import { haveNatsServer, startNats, type NatsCluster } from '../support/nats.js';
import { healthCheck, messages, reflectionServices, registryClient } from './grpc-helpers.js';

jest.setTimeout(40000);

const modes: Array<'embedded' | 'nats'> = haveNatsServer() ? ['embedded', 'nats'] : ['embedded'];

describe.each(modes)('registry on the %s store', (mode) => {
  let nats: NatsCluster | undefined;
  let reg: ServiceProc;

  beforeAll(async () => {
    if (mode === 'nats') nats = await startNats(1);
    const args = ['--listen', 'tcp!127.0.0.1!0', '--health', 'tcp!127.0.0.1!0'];
    if (nats) args.push('--nats', nats.servers);
    reg = await startServiceProc('registry', args);
  });
  afterAll(async () => {
    await reg?.stop();
    await nats?.stop();
  });

  test('health, reflection, Register/List/Lookup/Watch/Deregister, /chan and events, lease expiry', async () => {
    expect(await healthCheck(reg.health!, '')).toBe('SERVING');
    expect(await healthCheck(reg.health!, 'prose.registry')).toBe('SERVING');
    const services = await reflectionServices(reg.health!);
    expect(services).toEqual(expect.arrayContaining(['prose.v1.Registry']));

    const rc = registryClient(reg.health!);
    const watch = rc.watch({ service: '', initial: false });
    const seen = messages(watch);
    const c = await Client.connect(reg.addr);
    await c.attach();
    const events = await (await c.walk('events')).open(0);
    let evOff = 0;
    const nextEvent = async (signal?: AbortSignal) => {
      const b = await events.read(evOff, 8192, { signal });
      evOff += b.length;
      return b.toString();
    };
    try {
      // A read of events blocks until a change; the register below ends it.
      const pending = nextEvent();
      const host = os.hostname();
      const r1 = await rc.call('Register', {
        provider: { service: 'time', provider: 'p1', addrs: ['tcp!127.0.0.1!5000', 'unix!/tmp/p1.sock'], host, load: 3 },
        ttlMs: 1500,
      });
      expect(r1.provider.provider).toBe('p1');
      expect(r1.provider.expiresAtMs).toBeGreaterThan(Date.now());
      expect(await pending).toBe('put time p1 tcp!127.0.0.1!5000 unix!/tmp/p1.sock\n');
      const m1 = await seen.next();
      expect([m1.kind, m1.service, m1.provider, m1.record.addrs]).toEqual(['PUT', 'time', 'p1', ['tcp!127.0.0.1!5000', 'unix!/tmp/p1.sock']]);

      await rc.call('Register', { provider: { service: 'time', provider: 'p2', addrs: ['tcp!127.0.0.1!5001'], load: 1 }, ttlMs: 20000 });
      expect(await nextEvent()).toBe('put time p2 tcp!127.0.0.1!5001\n');
      expect((await seen.next()).provider).toBe('p2');

      const list = await rc.call('List', { service: 'time' });
      expect(list.providers.map((p: any) => p.provider)).toEqual(['p1', 'p2']);
      const look = await rc.call('Lookup', { service: 'time', host });
      // Same host: p1's unix socket beats p2's tcp despite the load.
      expect(look.choices.map((x: any) => `${x.provider.provider} ${x.addr} ${x.rank}`)).toEqual(['p1 unix!/tmp/p1.sock 1', 'p2 tcp!127.0.0.1!5001 2']);
      const far = await rc.call('Lookup', { service: 'time', host: 'elsewhere' });
      expect(far.choices.map((x: any) => x.provider.provider)).toEqual(['p2', 'p1']);
      await expect(rc.call('Register', { provider: { service: 'bad.name', addrs: ['tcp!h!1'] } })).rejects.toMatchObject({ code: 3 });

      // The 9P view.
      expect((await c.list('chan')).map((e) => e.name)).toEqual(['time']);
      expect((await c.list('chan/time')).map((e) => e.name).sort()).toEqual(['p1', 'p2']);
      expect((await c.list('chan/time/p1')).map((e) => e.name).sort()).toEqual(['addr', 'load', 'record', 'status']);
      expect((await c.readFile('chan/time/p1/addr')).toString()).toBe('unix!/tmp/p1.sock\ntcp!127.0.0.1!5000\n');
      expect((await c.readFile('chan/time/p2/load')).toString()).toBe('1\n');
      expect((await c.readFile('chan/time/p1/status')).toString()).toMatch(/^live \d+\n$/);
      expect(JSON.parse((await c.readFile('chan/time/p2/record')).toString())).toMatchObject({ service: 'time', provider: 'p2', addrs: ['tcp!127.0.0.1!5001'] });
      expect((await c.readFile('services')).toString()).toBe('time\n');

      // A flushed read of events ends with AbortError and the file goes on.
      const ac = new AbortController();
      const flushed = nextEvent(ac.signal);
      setTimeout(() => ac.abort(), 100);
      await expect(flushed).rejects.toBeInstanceOf(AbortError);

      // p1 is not refreshed: its lease ends for the watch, events, List, Lookup and /chan.
      const t0 = Date.now();
      expect(await nextEvent()).toBe('expire time p1\n');
      expect(Date.now() - t0).toBeLessThan(2500);
      const m3 = await seen.next();
      expect([m3.kind, m3.provider]).toEqual(['EXPIRE', 'p1']);
      expect((await rc.call('Lookup', { service: 'time' })).choices.map((x: any) => x.provider.provider)).toEqual(['p2']);
      expect((await rc.call('List', { service: 'time', includeExpired: true })).providers.length).toBe(2);
      expect((await c.list('chan/time')).map((e) => e.name)).toEqual(['p2']);

      await rc.call('Deregister', { service: 'time', provider: 'p2' });
      expect(await nextEvent()).toBe('delete time p2\n');
      expect((await seen.next()).kind).toBe('DELETE');
      expect((await rc.call('List', {})).providers).toEqual([]);
      expect((await c.list('chan')).map((e) => e.name)).toEqual([]);
    } finally {
      watch.cancel();
      rc.close();
      c.close();
    }
  });
});

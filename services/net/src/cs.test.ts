import { Errno } from '@prose/protocol';
import { ServiceTable, csTranslate, resolveHost, systemResolver, type Resolver } from './cs.js';

const resolver: Resolver = {
  async lookup(h) {
    if (h === 'twice.test') return ['::ffff:127.0.0.1', '127.0.0.1', '::1'];
    if (h === 'empty.test') return [];
    throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
  },
};

describe('cs', () => {
  const services = ServiceTable.parse('http 80/tcp www\n# comment\ndomain 53/udp\nbad line\nhuge 70000/tcp\n');

  test('services(5) parsing, numbers pass through', () => {
    expect(services.port('tcp', 'www')).toBe(80);
    expect(services.port('udp', 'domain')).toBe(53);
    expect(services.port('tcp', 'domain')).toBeUndefined();
    expect(services.port('tcp', 'huge')).toBeUndefined();
    expect(services.port('tcp', '8080')).toBe(8080);
    expect(services.port('tcp', '99999')).toBeUndefined();
    expect(ServiceTable.system('/nonexistent').port('tcp', '9fs')).toBe(564);
  });

  test('resolved addresses are canonical and without duplicates', async () => {
    expect(await resolveHost('twice.test', resolver)).toEqual(['127.0.0.1', '::1']);
    expect(await resolveHost('::ffff:10.0.0.1', resolver)).toEqual(['10.0.0.1']);
    await expect(resolveHost('empty.test', resolver)).rejects.toThrow("cs: can't translate address: empty.test (no addresses)");
    await expect(resolveHost('x.test', resolver, 'connect x.test!1')).rejects.toMatchObject({
      message: "connect x.test!1: can't translate address: x.test (ENOTFOUND)", errno: Errno.ENOENT,
    });
  });

  test('queries', async () => {
    const t = (q: string) => csTranslate(q, { resolver, services, mount: '/n/net' });
    expect(await t('tcp!twice.test!www')).toEqual(['/n/net/tcp/clone 127.0.0.1!80', '/n/net/tcp/clone ::1!80']);
    expect(await t('net![::1]!80\n')).toEqual(['/n/net/tcp/clone ::1!80']);
    expect(await t('udp!*!domain')).toEqual(['/n/net/udp/clone 53']);
    await expect(t('il!host!80')).rejects.toThrow('cs: unknown network "il" in "il!host!80"');
    await expect(t('tcp!host')).rejects.toThrow('cs: bad query "tcp!host": want net!host!service');
    await expect(t('tcp!!80')).rejects.toThrow(/bad query/);
  });

  test('the system resolver knows localhost', async () => {
    const a = await resolveHost('localhost', systemResolver);
    expect(a.some((x) => x === '127.0.0.1' || x === '::1')).toBe(true);
  });
});

import { Errno } from '@prose/protocol';
import { Cidr, DEFAULT_POLICY, Policy, PortRange } from './policy.js';

describe('address ranges and port ranges', () => {
  test('CIDR matching for IPv4 and IPv6', () => {
    const lo = Cidr.parse('127.0.0.0/8');
    expect(lo.text).toBe('127.0.0.0/8');
    expect(lo.contains('127.255.0.1')).toBe(true);
    expect(lo.contains('::ffff:127.0.0.2')).toBe(true);
    expect(lo.contains('128.0.0.1')).toBe(false);
    expect(lo.contains('::1')).toBe(false);
    expect(Cidr.parse('10.1.2.3/16').text).toBe('10.1.0.0/16');
    expect(Cidr.parse('192.168.1.7').contains('192.168.1.7')).toBe(true);
    expect(Cidr.parse('192.168.1.7').contains('192.168.1.8')).toBe(false);
    expect(Cidr.parse('0.0.0.0/0').contains('8.8.8.8')).toBe(true);
    expect(Cidr.parse('0.0.0.0/0').contains('::1')).toBe(false);
    expect(Cidr.parse('fd00::/8').contains('fdab::1')).toBe(true);
    expect(Cidr.parse('fd00::/8').contains('fe00::1')).toBe(false);
    expect(Cidr.parse('::1/128').contains('::1')).toBe(true);
    expect(Cidr.parse('10.0.0.0/9').contains('10.127.255.255')).toBe(true);
    expect(Cidr.parse('10.0.0.0/9').contains('10.128.0.0')).toBe(false);
    for (const bad of ['10.0.0.0/33', '::/129', 'localhost', '10.0.0.0/x', '']) expect(() => Cidr.parse(bad)).toThrow(/bad address range/);
  });

  test('port ranges', () => {
    expect(PortRange.parse('80').contains(80)).toBe(true);
    expect(PortRange.parse('1024-2048').contains(2048)).toBe(true);
    expect(PortRange.parse('1024-2048').contains(2049)).toBe(false);
    expect(PortRange.parse('*').contains(1)).toBe(true);
    for (const bad of ['0', '2-1', '70000', 'http', '1-']) expect(() => PortRange.parse(bad)).toThrow(/bad port range/);
  });
});

describe('Policy', () => {
  const p = new Policy(DEFAULT_POLICY);

  test('default: loopback only, refusals name the rule', () => {
    expect(() => p.checkConnect('connect', '127.0.0.1', 80)).not.toThrow();
    expect(() => p.checkConnect('connect', '::1', 80)).not.toThrow();
    expect(() => p.checkConnect('connect', '10.1.2.3', 80)).toThrow(expect.objectContaining({
      message: 'connect 10.1.2.3!80: address not allowed by policy (connect-allow 127.0.0.0/8 ::1/128)', errno: Errno.EACCES,
    }));
    expect(() => p.checkConnect('connect', '0.0.0.0', 80)).toThrow(/address not allowed/);
    expect(() => p.checkConnect('connect', '::', 80)).toThrow(/address not allowed/);
    expect(() => p.checkConnect('connect', '::ffff:192.168.0.1', 80)).toThrow(/address not allowed/);
    expect(() => p.checkConnect('connect', '10.0.0.1', 80, 'evil.example')).toThrow('connect evil.example (10.0.0.1!80): address not allowed by policy');
  });

  test('ports: connect-ports and announce-ports', () => {
    const q = new Policy({ ...DEFAULT_POLICY, connectPorts: ['80', '8000-8999'], announcePorts: ['5000'] });
    expect(() => q.checkConnect('connect', '127.0.0.1', 8080)).not.toThrow();
    expect(() => q.checkConnect('connect', '127.0.0.1', 22)).toThrow('connect 127.0.0.1!22: port not allowed by policy (connect-ports 80 8000-8999)');
    expect(() => q.checkAnnounce('announce', undefined, 5000)).not.toThrow();
    expect(() => q.checkAnnounce('announce', undefined, 0)).not.toThrow();
    expect(() => q.checkAnnouncePort('announce', 40000)).toThrow('announce 40000: port not allowed by policy (announce-ports 5000)');
    expect(() => q.checkAnnounce('announce', '*', 5000)).not.toThrow();
    expect(() => q.checkAnnounce('announce', '::ffff:127.0.0.1', 5000)).not.toThrow();
    expect(() => q.checkAnnounce('announce', '0.0.0.0', 5000)).toThrow('announce 0.0.0.0!5000: address not allowed by policy (announce-addr 127.0.0.1)');
  });

  test('an empty allow-list refuses everything; bad entries name their option', () => {
    const none = new Policy({ ...DEFAULT_POLICY, connectAllow: [] });
    expect(() => none.checkConnect('connect', '127.0.0.1', 80)).toThrow('(connect-allow is empty)');
    expect(() => new Policy({ ...DEFAULT_POLICY, connectAllow: ['10.0.0.0/40'] })).toThrow(/^connect-allow: bad address range "10.0.0.0\/40"/);
    expect(() => new Policy({ ...DEFAULT_POLICY, announcePorts: ['x'] })).toThrow(/^announce-ports: bad port range/);
    expect(() => new Policy({ ...DEFAULT_POLICY, announceAddr: 'localhost' })).toThrow(/^announce-addr: "localhost" is not an IP address/);
    expect(p.describe()).toBe('connect-allow 127.0.0.0/8 ::1/128\nconnect-ports 1-65535\nannounce-addr 127.0.0.1\nannounce-ports 1024-65535');
  });
});

import { Errno } from '@prose/protocol';
import { UDPHDR_SIZE, bytesToIp, canonicalIp, decodeUdphdr, encodeUdphdr, ipToBytes, parseHostPort } from './addr.js';

describe('addresses as 16 bytes (ip(3))', () => {
  test('IPv4 is v4-mapped and prints dotted', () => {
    expect(ipToBytes('127.0.0.1')!.toString('hex')).toBe('00000000000000000000ffff7f000001');
    expect(bytesToIp(ipToBytes('10.1.2.3')!)).toBe('10.1.2.3');
    expect(canonicalIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalIp('::FFFF:7f00:1')).toBe('127.0.0.1');
  });

  test('IPv6 round-trips in compressed form', () => {
    for (const [a, want] of [
      ['::1', '::1'], ['::', '::'], ['fe80::1%eth0', 'fe80::1'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['1::', '1::'],
      ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
    ]) {
      expect(canonicalIp(a!)).toBe(want);
    }
  });

  test('names and junk are not literals', () => {
    for (const a of ['localhost', '127.1', '1.2.3.256', '', '::g', '2130706433']) expect(ipToBytes(a)).toBeUndefined();
  });

  test('host!port, with brackets and !r', () => {
    expect(parseHostPort('127.0.0.1!80')).toEqual({ host: '127.0.0.1', port: 80, restricted: false });
    expect(parseHostPort('[::1]!564!r')).toEqual({ host: '::1', port: 564, restricted: true });
    expect(parseHostPort('example.com!0')).toEqual({ host: 'example.com', port: 0, restricted: false });
    for (const bad of ['127.0.0.1', '127.0.0.1!', '!80', 'a!b!c', 'h!65536', 'h!-1', 'h!8x']) {
      expect(() => parseHostPort(bad)).toThrow(expect.objectContaining({ errno: Errno.EINVAL, message: expect.stringMatching(/^bad address/) }));
    }
  });

  test('Udphdr: raddr laddr ifcaddr (16 bytes each) rport lport (big-endian)', () => {
    const h = { raddr: '127.0.0.1', laddr: '::1', ifcaddr: '127.0.0.2', rport: 0x1234, lport: 53 };
    const b = encodeUdphdr(h);
    expect(b.length).toBe(UDPHDR_SIZE);
    expect(b.subarray(0, 16).toString('hex')).toBe('00000000000000000000ffff7f000001');
    expect(b.subarray(16, 32).toString('hex')).toBe('00000000000000000000000000000001');
    expect(b.readUInt16BE(48)).toBe(0x1234);
    expect(b.readUInt16BE(50)).toBe(53);
    expect(decodeUdphdr(Buffer.concat([b, Buffer.from('payload')]))).toEqual(h);
    expect(() => decodeUdphdr(Buffer.alloc(51))).toThrow(/shorter than the 52-byte header/);
  });
});

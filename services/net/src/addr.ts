/**
 * Addresses the ip(3) way: every address is 16 bytes of IPv6, IPv4 ones v4-mapped
 * (`::ffff:a.b.c.d`); in text an IPv4 address prints dotted and a port follows a `!`
 * (`127.0.0.1!80`). Also the 52-byte Udphdr that UDP conversations in `headers` mode put in
 * front of every datagram.
 */
import { isIP } from 'node:net';
import { Errno, NinepError } from '@prose/protocol';

/** Bytes of an address (IPv4 v4-mapped). */
export const IPADDRLEN = 16;

const V4PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/** True when `s` is an IPv4 or IPv6 literal (a zone suffix `%eth0` is allowed on IPv6). */
export function isIpLiteral(s: string): boolean {
  return isIP(stripZone(s)) !== 0;
}

function stripZone(s: string): string {
  const pct = s.indexOf('%');
  return pct < 0 ? s : s.slice(0, pct);
}

/** The 16 bytes of an IP literal (IPv4 v4-mapped); undefined when `s` is not one. */
export function ipToBytes(s: string): Buffer | undefined {
  const a = stripZone(s);
  const kind = isIP(a);
  if (kind === 4) return Buffer.concat([V4PREFIX, v4Bytes(a)]);
  if (kind !== 6) return undefined;
  const out = Buffer.alloc(IPADDRLEN);
  let head = a;
  let tail = '';
  const dbl = a.indexOf('::');
  if (dbl >= 0) {
    head = a.slice(0, dbl);
    tail = a.slice(dbl + 2);
  }
  const groups = (part: string): Buffer => {
    if (part === '') return Buffer.alloc(0);
    const bytes: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) bytes.push(...v4Bytes(g));
      else {
        const v = parseInt(g, 16);
        bytes.push(v >> 8, v & 0xff);
      }
    }
    return Buffer.from(bytes);
  };
  const h = groups(head);
  const t = groups(tail);
  h.copy(out, 0);
  t.copy(out, IPADDRLEN - t.length);
  return out;
}

function v4Bytes(s: string): Buffer {
  return Buffer.from(s.split('.').map((x) => Number(x)));
}

/** True when the 16 bytes are a v4-mapped address. */
export function isV4Mapped(b: Buffer): boolean {
  return b.length === IPADDRLEN && b.subarray(0, 12).equals(V4PREFIX);
}

/** The text of 16 address bytes: dotted for v4-mapped, compressed IPv6 otherwise. */
export function bytesToIp(b: Buffer): string {
  if (isV4Mapped(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const g: number[] = [];
  for (let i = 0; i < IPADDRLEN; i += 2) g.push(b.readUInt16BE(i));
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The canonical text of an IP literal (v4-mapped IPv6 becomes dotted IPv4); undefined if not one. */
export function canonicalIp(s: string): string | undefined {
  const b = ipToBytes(s);
  return b === undefined ? undefined : bytesToIp(b);
}

/** 4 for IPv4 (or v4-mapped), 6 otherwise. Precondition: an IP literal. */
export function ipFamily(s: string): 4 | 6 {
  return isV4Mapped(ipToBytes(s)!) ? 4 : 6;
}

/** `addr!port` as local/remote files and cs print it. */
export function hostPort(addr: string, port: number): string {
  return `${addr}!${port}`;
}

/** What `connect` and `announce` take: `host!port`, optionally with `!r` (a reserved local port). */
export interface HostPort {
  host: string;
  port: number;
  /** The `!r` suffix was given. */
  restricted: boolean;
}

function badAddr(s: string, why: string): NinepError {
  return new NinepError(`bad address ${JSON.stringify(s)}: ${why}`, Errno.EINVAL);
}

/** Parses a port number (0-65535); throws naming `whole`. */
export function parsePort(p: string, whole: string): number {
  if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) throw badAddr(whole, `bad port ${JSON.stringify(p)}`);
  return Number(p);
}

/**
 * Parses `host!port[!r]` (host an IP literal, a name, or `*`; `[v6]` brackets allowed).
 * Throws "bad address ..." (EINVAL).
 */
export function parseHostPort(s: string): HostPort {
  const parts = s.split('!');
  let restricted = false;
  if (parts.length === 3 && parts[2] === 'r') {
    restricted = true;
    parts.pop();
  }
  if (parts.length !== 2) throw badAddr(s, 'want host!port');
  let host = parts[0]!;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') throw badAddr(s, 'empty host');
  return { host, port: parsePort(parts[1]!, s), restricted };
}

/** Size of the Udphdr of ip(3)'s `headers` mode: raddr[16] laddr[16] ifcaddr[16] rport[2] lport[2]. */
export const UDPHDR_SIZE = 52;

export interface Udphdr {
  raddr: string;
  laddr: string;
  ifcaddr: string;
  rport: number;
  lport: number;
}

/** The 52-byte header (addresses v4-mapped, ports big-endian). */
export function encodeUdphdr(h: Udphdr): Buffer {
  const b = Buffer.alloc(UDPHDR_SIZE);
  for (const [i, a] of [h.raddr, h.laddr, h.ifcaddr].entries()) {
    const bytes = ipToBytes(a);
    if (bytes === undefined) throw badAddr(a, 'not an IP address');
    bytes.copy(b, i * IPADDRLEN);
  }
  b.writeUInt16BE(h.rport, 48);
  b.writeUInt16BE(h.lport, 50);
  return b;
}

/** Reads the header at the front of `b`; throws EINVAL when `b` is shorter than 52 bytes. */
export function decodeUdphdr(b: Buffer): Udphdr {
  if (b.length < UDPHDR_SIZE) {
    throw new NinepError(`udp write of ${b.length} bytes is shorter than the ${UDPHDR_SIZE}-byte header`, Errno.EINVAL);
  }
  return {
    raddr: bytesToIp(b.subarray(0, 16)),
    laddr: bytesToIp(b.subarray(16, 32)),
    ifcaddr: bytesToIp(b.subarray(32, 48)),
    rport: b.readUInt16BE(48),
    lport: b.readUInt16BE(50),
  };
}

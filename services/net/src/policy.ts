/**
 * The access policy of the gateway, so that it never becomes an open proxy: which addresses
 * and ports a `connect` (and a UDP datagram sent with `headers`) may reach, which ports an
 * `announce` may take and on which local address it listens. Every check is made on a
 * resolved IP address, never on a name. The default is loopback only.
 */
import { Errno, NinepError } from '@prose/protocol';
import { IPADDRLEN, bytesToIp, hostPort, ipToBytes } from './addr.js';

/** One address range. IPv4 ranges are held v4-mapped (their prefix + 96 bits). */
export class Cidr {
  readonly text: string;
  private readonly bytes: Buffer;
  private readonly bits: number;

  private constructor(text: string, bytes: Buffer, bits: number) {
    this.text = text;
    this.bytes = bytes;
    this.bits = bits;
  }

  /** `127.0.0.0/8`, `::1/128`, or a single address (`10.0.0.1`, `::1`). Throws a RangeError naming `s`. */
  static parse(s: string): Cidr {
    const slash = s.indexOf('/');
    const addr = slash < 0 ? s : s.slice(0, slash);
    const bytes = ipToBytes(addr);
    if (bytes === undefined || addr.includes('%')) throw new RangeError(`bad address range ${JSON.stringify(s)}: not an IP address`);
    const v4 = !addr.includes(':');
    const max = v4 ? 32 : 128;
    let prefix = max;
    if (slash >= 0) {
      const p = s.slice(slash + 1);
      if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new RangeError(`bad address range ${JSON.stringify(s)}: prefix must be 0-${max}`);
      prefix = Number(p);
    }
    const bits = v4 ? prefix + 96 : prefix;
    const masked = Buffer.from(bytes);
    for (let i = 0; i < IPADDRLEN; i++) {
      const keep = Math.max(0, Math.min(8, bits - i * 8));
      masked[i]! &= (0xff << (8 - keep)) & 0xff;
    }
    const text = `${bytesToIp(masked)}/${prefix}`;
    return new Cidr(text, masked, bits);
  }

  /** True when the 16 address bytes `b` fall in the range. */
  containsBytes(b: Buffer): boolean {
    for (let i = 0; i < IPADDRLEN; i++) {
      const keep = Math.max(0, Math.min(8, this.bits - i * 8));
      if (keep === 0) return true;
      const mask = (0xff << (8 - keep)) & 0xff;
      if ((b[i]! & mask) !== this.bytes[i]) return false;
    }
    return true;
  }

  /** True when the IP literal `addr` falls in the range (false for anything else). */
  contains(addr: string): boolean {
    const b = ipToBytes(addr);
    return b !== undefined && this.containsBytes(b);
  }
}

/** An inclusive range of ports. */
export class PortRange {
  readonly lo: number;
  readonly hi: number;

  private constructor(lo: number, hi: number) {
    this.lo = lo;
    this.hi = hi;
  }

  /** `80`, `1024-65535`, or `*` (1-65535). Throws a RangeError naming `s`. */
  static parse(s: string): PortRange {
    if (s === '*') return new PortRange(1, 65535);
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 1 || hi > 65535 || lo > hi) throw new RangeError(`bad port range ${JSON.stringify(s)}: want N or N-M within 1-65535`);
    return new PortRange(lo, hi);
  }

  contains(port: number): boolean {
    return port >= this.lo && port <= this.hi;
  }

  get text(): string {
    return this.lo === this.hi ? String(this.lo) : `${this.lo}-${this.hi}`;
  }
}

/** The policy as configured (the option names are the ones of the service's config). */
export interface PolicyConfig {
  /** `connect-allow`: address ranges a connect (or a UDP datagram with headers) may reach. */
  connectAllow: readonly string[];
  /** `connect-ports`: ports a connect may reach. */
  connectPorts: readonly string[];
  /** `announce-addr`: the local address announces listen on. */
  announceAddr: string;
  /** `announce-ports`: ports an announce may take (an announce of `*` must get one of them). */
  announcePorts: readonly string[];
}

/** Loopback only; announces on 127.0.0.1, ports 1024 and up. */
export const DEFAULT_POLICY: PolicyConfig = {
  connectAllow: ['127.0.0.0/8', '::1/128'],
  connectPorts: ['1-65535'],
  announceAddr: '127.0.0.1',
  announcePorts: ['1024-65535'],
};

function refused(what: string, why: string): NinepError {
  return new NinepError(`${what}: ${why}`, Errno.EACCES);
}

export class Policy {
  readonly connectAllow: readonly Cidr[];
  readonly connectPorts: readonly PortRange[];
  /** Canonical text of the announce address. */
  readonly announceAddr: string;
  readonly announcePorts: readonly PortRange[];

  /** Parses a configuration; throws a RangeError naming the bad entry and its option. */
  constructor(cfg: PolicyConfig = DEFAULT_POLICY) {
    const each = <T>(opt: string, xs: readonly string[], f: (s: string) => T): T[] =>
      xs.map((x) => {
        try {
          return f(x);
        } catch (e) {
          throw new RangeError(`${opt}: ${(e as Error).message}`);
        }
      });
    this.connectAllow = each('connect-allow', cfg.connectAllow, Cidr.parse);
    this.connectPorts = each('connect-ports', cfg.connectPorts, PortRange.parse);
    this.announcePorts = each('announce-ports', cfg.announcePorts, PortRange.parse);
    const a = ipToBytes(cfg.announceAddr);
    if (a === undefined) throw new RangeError(`announce-addr: ${JSON.stringify(cfg.announceAddr)} is not an IP address`);
    this.announceAddr = bytesToIp(a);
  }

  /** True when a connect may reach the IP literal `addr`. */
  allowsAddress(addr: string): boolean {
    const b = ipToBytes(addr);
    return b !== undefined && this.connectAllow.some((c) => c.containsBytes(b));
  }

  /** True when a connect may reach `port`. */
  allowsPort(port: number): boolean {
    return this.connectPorts.some((r) => r.contains(port));
  }

  /**
   * Checks an outgoing connect (or datagram) to the resolved IP literal `addr` and `port`.
   * Throws EACCES: "<op> <addr>!<port>: address not allowed by policy (connect-allow ...)" or
   * "...: port not allowed by policy (connect-ports ...)". `name`, when the caller resolved a
   * host name, is shown too.
   */
  checkConnect(op: string, addr: string, port: number, name?: string): void {
    const what = `${op} ${name !== undefined && name !== addr ? `${name} (${hostPort(addr, port)})` : hostPort(addr, port)}`;
    if (!this.allowsAddress(addr)) {
      throw refused(what, `address not allowed by policy (connect-allow ${this.connectAllow.map((c) => c.text).join(' ') || 'is empty'})`);
    }
    if (!this.allowsPort(port)) {
      throw refused(what, `port not allowed by policy (connect-ports ${this.connectPorts.map((r) => r.text).join(' ') || 'is empty'})`);
    }
  }

  /**
   * Checks an announce of `port` on `addr` (undefined or `*`: the announce address). Port 0
   * (announce `*`) passes here; the port the system then picks goes through `checkAnnouncePort`.
   */
  checkAnnounce(op: string, addr: string | undefined, port: number): void {
    if (addr !== undefined && addr !== '*') {
      const b = ipToBytes(addr);
      if (b === undefined || bytesToIp(b) !== this.announceAddr) {
        throw refused(`${op} ${hostPort(addr, port)}`, `address not allowed by policy (announce-addr ${this.announceAddr})`);
      }
    }
    if (port !== 0) this.checkAnnouncePort(op, port);
  }

  /** Throws EACCES "<op> <port>: port not allowed by policy (announce-ports ...)". */
  checkAnnouncePort(op: string, port: number): void {
    if (!this.announcePorts.some((r) => r.contains(port))) {
      throw refused(`${op} ${port}`, `port not allowed by policy (announce-ports ${this.announcePorts.map((r) => r.text).join(' ') || 'is empty'})`);
    }
  }

  /** One line per rule, for `README`-style listings and the log. */
  describe(): string {
    return [
      `connect-allow ${this.connectAllow.map((c) => c.text).join(' ')}`,
      `connect-ports ${this.connectPorts.map((r) => r.text).join(' ')}`,
      `announce-addr ${this.announceAddr}`,
      `announce-ports ${this.announcePorts.map((r) => r.text).join(' ')}`,
    ].join('\n');
  }
}

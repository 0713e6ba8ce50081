/**
 * Name and service translation: the system resolver behind `connect host!port` and the
 * connection server `/net/cs` (after Plan 9 ndb/cs: write `tcp!host!port`, then read
 * `/net/tcp/clone addr!port` lines, one per address).
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { Errno, NinepError } from '@prose/protocol';
import { canonicalIp, hostPort } from './addr.js';

/** Turns host names into addresses. */
export interface Resolver {
  /** Every address of `host` (IP literals as text), in the resolver's order. Rejects when there is none. */
  lookup(host: string): Promise<string[]>;
}

/** The system resolver (getaddrinfo through dns.lookup: /etc/hosts, DNS, ...). */
export const systemResolver: Resolver = {
  async lookup(host) {
    const all = await lookup(host, { all: true, verbatim: true });
    return all.map((a) => a.address);
  },
};

/**
 * The canonical addresses of `host`: an IP literal is itself (v4-mapped IPv6 as dotted IPv4),
 * anything else goes through the resolver and every answer is made canonical. Rejects with
 * "<what>: can't translate address: <host> (<reason>)" (ENOENT) when the host is unknown.
 */
export async function resolveHost(host: string, resolver: Resolver, what = 'cs'): Promise<string[]> {
  const lit = canonicalIp(host);
  if (lit !== undefined) return [lit];
  let addrs: string[];
  try {
    addrs = await resolver.lookup(host);
  } catch (e) {
    const why = (e as { code?: string }).code ?? (e as Error).message;
    throw new NinepError(`${what}: can't translate address: ${host} (${why})`, Errno.ENOENT);
  }
  const out: string[] = [];
  for (const a of addrs) {
    const c = canonicalIp(a);
    if (c !== undefined && !out.includes(c)) out.push(c);
  }
  if (out.length === 0) throw new NinepError(`${what}: can't translate address: ${host} (no addresses)`, Errno.ENOENT);
  return out;
}

/** Service names → ports, per protocol (tcp, udp). */
export class ServiceTable {
  private readonly byProto = new Map<string, Map<string, number>>();

  /** Adds `name` (and its aliases) for `proto`. */
  add(proto: string, port: number, ...names: string[]): void {
    let m = this.byProto.get(proto);
    if (m === undefined) this.byProto.set(proto, (m = new Map()));
    for (const n of names) if (!m.has(n)) m.set(n, port);
  }

  /** The port of `service` (a number or a name) for `proto`; undefined when unknown. */
  port(proto: string, service: string): number | undefined {
    if (/^\d{1,5}$/.test(service)) {
      const n = Number(service);
      return n <= 65535 ? n : undefined;
    }
    return this.byProto.get(proto)?.get(service);
  }

  /** Parses services(5) text: `name port/proto [aliases...] [# comment]`. Bad lines are skipped. */
  static parse(text: string, into = new ServiceTable()): ServiceTable {
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      const [name, pp, ...aliases] = line.split(/\s+/);
      const m = /^(\d{1,5})\/(\w+)$/.exec(pp ?? '');
      if (name === undefined || m === null || Number(m[1]) > 65535) continue;
      into.add(m[2]!, Number(m[1]), name, ...aliases);
    }
    return into;
  }

  /**
   * The system's table (`/etc/services` when readable) plus a few Plan 9 names (9fs 564) and
   * the common ones, so that `tcp!localhost!http` works on a bare container too.
   */
  static system(path = '/etc/services'): ServiceTable {
    const t = new ServiceTable();
    try {
      ServiceTable.parse(readFileSync(path, 'utf8'), t);
    } catch {
      // no services(5) file: the built-in names below still work
    }
    const builtin: Array<[string, number]> = [
      ['echo', 7], ['discard', 9], ['ftp', 21], ['ssh', 22], ['telnet', 23], ['smtp', 25], ['domain', 53],
      ['http', 80], ['www', 80], ['pop3', 110], ['ntp', 123], ['imap', 143], ['https', 443], ['9fs', 564], ['9p', 564],
    ];
    for (const proto of ['tcp', 'udp']) for (const [n, p] of builtin) t.add(proto, p, n);
    return t;
  }
}

export interface CsOptions {
  resolver: Resolver;
  services: ServiceTable;
  /** Where the partition mounts this gateway; the prefix of every answer. Default "/net". */
  mount?: string;
}

/**
 * Translates one cs query, `net!host!service`, into ndb/cs answer lines `<mount>/<net>/clone
 * <addr>!<port>`, one per address of the host in the resolver's order. `net` is tcp, udp, or
 * `net` (meaning tcp); host `*` means "any local address" and answers `<mount>/<net>/clone <port>`
 * (what announce takes). Rejects with a "cs: ..." NinepError naming the problem.
 */
export async function csTranslate(query: string, opts: CsOptions): Promise<string[]> {
  const q = query.trim();
  const parts = q.split('!');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new NinepError(`cs: bad query ${JSON.stringify(q)}: want net!host!service`, Errno.EINVAL);
  }
  const [netName, host, service] = parts as [string, string, string];
  const proto = netName === 'net' ? 'tcp' : netName;
  if (proto !== 'tcp' && proto !== 'udp') throw new NinepError(`cs: unknown network ${JSON.stringify(netName)} in ${JSON.stringify(q)}`, Errno.EINVAL);
  const port = opts.services.port(proto, service);
  if (port === undefined) throw new NinepError(`cs: unknown service ${JSON.stringify(service)} for ${proto} in ${JSON.stringify(q)}`, Errno.ENOENT);
  const clone = `${opts.mount ?? '/net'}/${proto}/clone`;
  if (host === '*') return [`${clone} ${port}`];
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const addrs = await resolveHost(bare, opts.resolver);
  return addrs.map((a) => `${clone} ${hostPort(a, port)}`);
}

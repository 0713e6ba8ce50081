/**
 * The one way a conversation turns `host!port` into where it may go: resolve first (a name, or
 * a literal in any spelling getaddrinfo takes), then check every resolved address against the
 * policy, and use the first allowed one — by address, so the system never resolves it again.
 */
import { Errno, NinepError } from '@prose/protocol';
import { isIpLiteral, parseHostPort } from './addr.js';
import type { NetContext, ProtoStats } from './conv.js';
import { resolveHost } from './cs.js';

export interface Target {
  /** A canonical IP literal the policy allows. */
  addr: string;
  port: number;
}

/**
 * Resolves and checks the `host!port` of ctl message `op` (e.g. "connect"). Rejects with
 * "connect <host>!<port>: can't translate address ..." (ENOENT) or the policy's refusal (EACCES,
 * counted in `stats.refused`).
 */
export async function resolveTarget(ctx: NetContext, stats: ProtoStats, op: string, spec: string): Promise<Target> {
  const hp = parseHostPort(spec);
  if (hp.restricted) throw new NinepError(`${op} ${spec}: reserved local ports (!r) are not supported`, Errno.EINVAL);
  if (hp.host === '*') throw new NinepError(`${op} ${spec}: * is not an address to connect to`, Errno.EINVAL);
  const addrs = await resolveHost(hp.host, ctx.resolver, `${op} ${spec}`);
  const name = isIpLiteral(hp.host) ? undefined : hp.host;
  const ok = addrs.find((a) => ctx.policy.allowsAddress(a) && ctx.policy.allowsPort(hp.port));
  if (ok !== undefined) return { addr: ok, port: hp.port };
  stats.refused++;
  ctx.policy.checkConnect(op, addrs[0]!, hp.port, name);
  throw new NinepError(`${op} ${spec}: not allowed by policy`, Errno.EACCES);
}

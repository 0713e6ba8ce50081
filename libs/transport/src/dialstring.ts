/**
 * Plan 9 dial strings: `tcp!host!port`, `unix!/path`. `net!host!port` is taken as tcp.
 */
import { Errno, NinepError } from '@prose/protocol';

export type Addr =
  | { net: 'tcp'; host: string; port: number }
  | { net: 'unix'; path: string };

/** Parses a dial string. Throws NinepError (EINVAL) with the reason. */
export function parseDialString(s: string): Addr {
  const bang = s.indexOf('!');
  if (bang < 0) throw new NinepError(`bad dial string "${s}": want net!host!port or unix!path`, Errno.EINVAL);
  const net = s.slice(0, bang);
  const rest = s.slice(bang + 1);
  if (net === 'unix') {
    if (!rest) throw new NinepError(`bad dial string "${s}": empty path`, Errno.EINVAL);
    return { net: 'unix', path: rest };
  }
  if (net === 'tcp' || net === 'net') {
    const last = rest.lastIndexOf('!');
    if (last < 0) throw new NinepError(`bad dial string "${s}": no port`, Errno.EINVAL);
    let host = rest.slice(0, last);
    const portStr = rest.slice(last + 1);
    if (!/^\d+$/.test(portStr) || Number(portStr) > 65535) {
      throw new NinepError(`bad dial string "${s}": bad port "${portStr}"`, Errno.EINVAL);
    }
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (!host) throw new NinepError(`bad dial string "${s}": empty host`, Errno.EINVAL);
    return { net: 'tcp', host, port: Number(portStr) };
  }
  throw new NinepError(`bad dial string "${s}": unknown network "${net}"`, Errno.EINVAL);
}

/** The dial string of an address. */
export function formatDialString(a: Addr): string {
  return a.net === 'unix' ? `unix!${a.path}` : `tcp!${a.host}!${a.port}`;
}

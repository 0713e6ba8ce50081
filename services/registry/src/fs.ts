/**
 * The directory as a 9P tree:
 *
 *   /chan/<service>/<provider>/addr     the addresses, one per line, best first for this host
 *   /chan/<service>/<provider>/status   "live <ms left>" (records past their lease are not listed)
 *   /chan/<service>/<provider>/load     the load
 *   /chan/<service>/<provider>/record   the whole record as JSON
 *   /events                             blocking: each read returns the next change, one line
 *                                       ("put <service> <provider> <addr>...", "delete ...",
 *                                       "expire ..."), from the open on; a flush ends the read
 *   /services                           the services with a live provider, one per line
 */
import * as os from 'node:os';
import { ReadQueue, Tree, dir, dynamicDir, file, textFile, type DirNode, type Node } from '@prose/server';
import { bestAddr, type Directory, type DirectoryEvent } from '@prose/directory';

/** One line of the events file. */
export function eventLine(e: DirectoryEvent): string {
  const addrs = e.kind === 'put' && e.record ? ' ' + e.record.addrs.join(' ') : '';
  return `${e.kind} ${e.service} ${e.provider}${addrs}\n`;
}

function providerDir(d: Directory, service: string, provider: string, host: string): DirNode {
  const rec = () => d.current(service).find((r) => r.provider === provider);
  return dir(provider, [
    textFile('addr', () => {
      const r = rec();
      if (!r) return '';
      const best = bestAddr(r, host)?.addr;
      const rest = r.addrs.filter((a) => a !== best);
      return (best ? [best, ...rest] : rest).join('\n') + '\n';
    }),
    textFile('status', () => {
      const r = rec();
      return r ? `live ${Math.max(0, r.expiresAt - Date.now())}\n` : 'gone\n';
    }),
    textFile('load', () => `${rec()?.load ?? 0}\n`),
    textFile('record', () => JSON.stringify(rec() ?? null) + '\n'),
  ]);
}

/** The tree over `d` (which should be `ready()`), for a caller on `host` (default this one). */
export function registryTree(d: Directory, host = os.hostname()): Tree {
  const services = () => [...new Set(d.current().map((r) => r.service))];
  const chan: Node = dynamicDir('chan', services, (service) =>
    dynamicDir(service, () => d.current(service).map((r) => r.provider), (provider) => providerDir(d, service, provider, host)),
  );
  interface Open { q: ReadQueue; it: AsyncIterableIterator<DirectoryEvent> }
  const events = file<Open>('events', {
    open: (h) => {
      const q = new ReadQueue({ limit: 4 * 1024 * 1024 });
      const it = d.watch();
      h.state = { q, it };
      void (async () => {
        for await (const e of it) {
          try {
            q.put(eventLine(e));
          } catch {
            // The reader fell 4 MiB behind: drop the event rather than the session.
          }
        }
        q.close();
      })();
    },
    read: (h, _off, count, req) => h.state!.q.read(count, req.signal),
    close: (h) => {
      void h.state?.it.return?.();
    },
  }, { perm: 0o444 });
  return new Tree(dir('/', [chan, events, textFile('services', () => services().sort().map((s) => s + '\n').join(''))]));
}

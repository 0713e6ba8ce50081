/**
 * Makes `shm!/path` a network of the transport: once this package is loaded, `dial` and
 * `listen` (and so Client.connect, Server.listen and every service's --listen) reach
 * shared-memory channels by dial string. The waiting mode of dialled channels comes from
 * $PROSE_SHM_MODE (poll, notify, adaptive; default adaptive).
 */
import { registerNetwork } from '@prose/transport';
import type { ShmMode } from './conn.js';
import { dialShm, listenShm } from './proc.js';

registerNetwork('shm', {
  dial: (addr, opts) => dialShm(addr, { timeoutMs: opts.timeoutMs, mode: (process.env.PROSE_SHM_MODE as ShmMode | undefined) || undefined }),
  listen: (addr, onConn) => listenShm(addr, onConn),
});

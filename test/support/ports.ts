/**
 * Free loopback ports for tests that start servers (diod, nats-server, our services).
 */
import * as net from 'node:net';

/**
 * A TCP port on `host` (default 127.0.0.1) that was free a moment ago: the kernel picks it for a
 * listener on port 0, which is then closed. Another process may take it before the caller binds
 * it, so a caller starting a server should retry with a new port when the bind fails.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error(`no port from ${JSON.stringify(addr)}`))));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port, or a Unix socket at `path`. */
export function canConnect(target: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = 'path' in target ? net.createConnection({ path: target.path }) : net.createConnection(target);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

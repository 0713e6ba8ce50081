/**
 * The HTTP peer of suite `gateways`, a node:http server on 127.0.0.1 (port 0 = any):
 *   GET  /small/N   answers N bytes ("x"), with Content-Length (keep-alive when asked)
 *   GET  /bytes/N   streams N bytes
 *   POST /sink      reads the body and answers its length in decimal
 * Run as a script it prints `listening tcp!127.0.0.1!<port>`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const CHUNK = Buffer.alloc(1 << 20, 0x61);

/** Serves the routes above; resolves with the listening server. */
export function httpPeer(port = 0): Promise<http.Server> {
  const smalls = new Map<number, Buffer>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    let m = /^\/small\/(\d+)$/.exec(url);
    if (req.method === 'GET' && m) {
      const n = Number(m[1]);
      let body = smalls.get(n);
      if (!body) smalls.set(n, (body = Buffer.alloc(n, 0x78)));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      res.end(body);
      return;
    }
    m = /^\/bytes\/(\d+)$/.exec(url);
    if (req.method === 'GET' && m) {
      let left = Number(m[1]);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, CHUNK.length);
          left -= n;
          if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (req.method === 'POST' && url === '/sink') {
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; });
      req.on('end', () => {
        const body = `${n}\n`;
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
        res.end(body);
      });
      return;
    }
    res.writeHead(404, { 'content-length': 0 }).end();
  });
  server.keepAliveTimeout = 60000;
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (require.main === module) {
  httpPeer().then((s) => {
    process.stdout.write(`listening tcp!127.0.0.1!${(s.address() as AddressInfo).port}\n`);
    process.on('SIGTERM', () => process.exit(0));
  }, (e) => {
    process.stderr.write(`http-peer: ${(e as Error).message}\n`);
    process.exit(1);
  });
}

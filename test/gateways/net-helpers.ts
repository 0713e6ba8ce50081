/**
 * Helpers for the net gateway's cross-process tests: the service as a child process, a client
 * session on it, grpc.health.v1 checks, and loopback peers (HTTP, TCP, UDP) to talk to.
 */
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { Client, type Fid } from '@prose/client';
import { startServiceProc, type ServiceProc } from '../support/child.js';

export type Version = '9P2000' | '9P2000.u' | '9P2000.L';

export interface NetProc extends ServiceProc {
  /** The unix!path address. */
  unix: string;
  /** Stops the child and removes its socket directory. */
  cleanup(): Promise<void>;
}

/** Starts services/net (built) listening on TCP and a Unix socket, with extra `args`. */
export async function startNet(args: string[] = []): Promise<NetProc> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-net-'));
  const unix = `unix!${path.join(dir, 'net.sock')}`;
  try {
    const p = await startServiceProc('net', ['--listen', 'tcp!127.0.0.1!0', '--listen', unix, ...args]);
    return {
      ...p,
      unix,
      cleanup: async () => {
        await p.stop();
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A client on `addr` speaking `version`. */
export async function mountNet(addr: string, version: Version = '9P2000.L'): Promise<{ client: Client; root: Fid }> {
  const client = await Client.connect(addr, { version, timeoutMs: 5000 });
  const root = await client.attach({ uname: 'glenda' });
  return { client, root };
}

export { healthStatus } from '../support/health.js';

export function sha256(b: Buffer | Buffer[]): string {
  const h = crypto.createHash('sha256');
  for (const x of Array.isArray(b) ? b : [b]) h.update(x);
  return h.digest('hex');
}

/** A loopback server that closes its connections and itself on `close`. */
export interface Peer<S> {
  port: number;
  server: S;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 answering with `handler`. */
export function startHttp(handler: http.RequestListener): Promise<Peer<http.Server>> {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as net.AddressInfo).port,
      server,
      close: () => new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
    }));
  });
}

/** A plain TCP server on 127.0.0.1 calling `onConn` for each connection. */
export function startTcp(onConn: (s: net.Socket) => void): Promise<Peer<net.Server>> {
  return new Promise((resolve) => {
    const socks = new Set<net.Socket>();
    const server = net.createServer((s) => {
      socks.add(s);
      s.on('close', () => socks.delete(s));
      s.on('error', () => {});
      onConn(s);
    });
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as net.AddressInfo).port,
      server,
      close: () => new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        server.close(() => r());
      }),
    }));
  });
}

/** A UDP echo server on 127.0.0.1. */
export function startUdpEcho(): Promise<Peer<dgram.Socket>> {
  return new Promise((resolve) => {
    const server = dgram.createSocket('udp4');
    server.on('message', (m, r) => server.send(m, r.port, r.address));
    server.bind(0, '127.0.0.1', () => resolve({
      port: server.address().port,
      server,
      close: () => new Promise<void>((r) => server.close(() => r())),
    }));
  });
}

/** Splits an HTTP/1.1 response into status line, headers and body. */
export function parseHttp(raw: Buffer): { status: string; headers: Record<string, string>; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no end of headers in ${JSON.stringify(raw.subarray(0, 200).toString())}`);
  const [status, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: status!, headers, body: raw.subarray(end + 4) };
}

/** Resolves with `p`'s rejection; fails the test if `p` resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { errno?: number; code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

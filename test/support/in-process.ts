/**
 * Test helper: a tree served in-process over connPair, and a client session on it (the unit
 * tests of the services use it; cross-process tests start the services as children).
 */
import { Client, type Fid } from '@prose/client';
import { Server, silentLogger } from '@prose/server';
import { connPair } from '@prose/transport';
import type { Srv } from '@prose/server';

export interface Session {
  client: Client;
  root: Fid;
  server: Server;
}

/** A server for `fs` and a client attached as `uname`, speaking `version`. */
export async function session(fs: { tree: Srv<any> }, version: '9P2000' | '9P2000.u' | '9P2000.L' = '9P2000', uname = 'glenda'): Promise<Session> {
  const server = new Server(fs.tree, { logger: silentLogger });
  const [a, b] = connPair();
  server.serve(a);
  const client = await Client.connect(b, { version });
  const root = await client.attach({ uname });
  return { client, root, server };
}

/** Walks to `path` and opens it: 0 read, 1 write, 2 read and write (same numbers in every dialect). */
export async function openPath(root: Fid, path: string, mode: 0 | 1 | 2): Promise<Fid> {
  const f = await root.walk(path);
  try {
    return root.client.dialect === '9P2000.L' ? await f.lopen(mode) : await f.open(mode);
  } catch (e) {
    await f.clunk().catch(() => undefined);
    throw e;
  }
}

/** Writes a string to an open fid at offset 0. */
export function put(f: Fid, s: string | Buffer): Promise<number> {
  return f.write(0, typeof s === 'string' ? Buffer.from(s) : s);
}

/** Reads once from an open fid, as text. */
export async function get(f: Fid, count = 8192, offset = 0, signal?: AbortSignal): Promise<string> {
  return (await f.read(offset, count, { signal })).toString();
}

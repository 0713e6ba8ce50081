/**
 * Our client against our server, in all three dialects, over TCP and a Unix socket: the
 * everyday operations, and flush(5) seen from the client — an aborted read that the server
 * drops rejects with an AbortError, and a reply that beats the Rflush is honoured.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { AbortError, Client, type Fid } from '@prose/client';
import { DMDIR, Errno, NinepError, OREAD, ORDWR } from '@prose/protocol';
import { Server, silentLogger } from '@prose/server';
import { conformanceTree } from './fixture.js';

const DIALECTS = ['9P2000', '9P2000.u', '9P2000.L'] as const;

describe.each(DIALECTS.flatMap((d) => (['tcp', 'unix'] as const).map((t) => [d, t] as const)))('client ↔ server, %s over %s', (version, transport) => {
  let server: Server<any>;
  let fixture: ReturnType<typeof conformanceTree>;
  let c: Client;
  let root: Fid;
  let dir: string;

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-cs-'));
    fixture = conformanceTree();
    server = new Server(fixture.tree, { logger: silentLogger });
    const l = await server.listen(transport === 'tcp' ? 'tcp!127.0.0.1!0' : `unix!${path.join(dir, 's')}`);
    c = await Client.connect(l.addr, { version });
    root = await c.attach({ uname: 'glenda', nUname: 1000 });
  });

  afterEach(async () => {
    c.close();
    await server.close({ timeoutMs: 200 });
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('version and msize are negotiated', () => {
    expect(c.dialect).toBe(version);
    expect(c.msize).toBe(1024 * 1024 + 24);
  });

  test('read, write back, list, stat, rename and remove', async () => {
    expect((await c.readFile('readme')).toString()).toBe('hello, world\n');
    const data = Buffer.alloc(300000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    await c.writeFile('dir/new', data);
    expect((await c.readFile('dir/new')).equals(data)).toBe(true);
    const names = (await c.list('dir')).map((e) => e.name).sort();
    expect(names).toEqual(['a', 'b', 'new', 'sub']);
    const f = await root.walk('dir/new');
    const st = await f.stat();
    expect(st.length).toBe(300000);
    expect(st.name).toBe('new');
    if (version === '9P2000.L') {
      const d = await root.walk('dir');
      await d.renameat('new', d, 'renamed');
      await d.clunk();
    } else {
      await f.wstat({ name: 'renamed' });
    }
    await f.clunk();
    const g = await root.walk('dir/renamed');
    expect((await g.stat()).length).toBe(300000);
    await g.remove();
    await expect(root.walk('dir/renamed')).rejects.toMatchObject({ errno: Errno.ENOENT });
    const sub = await root.walk('dir/sub');
    expect(((await sub.stat()).mode & DMDIR) >>> 0).toBe(DMDIR);
    await sub.clunk();
  });

  test('errors carry the errno a Linux caller expects', async () => {
    await expect(root.walk('nonesuch')).rejects.toMatchObject({ errno: Errno.ENOENT });
    const ro = await root.walk('ro');
    await expect(ro.open(ORDWR)).rejects.toBeInstanceOf(NinepError);
    await expect((await root.walk('ro')).open(ORDWR)).rejects.toMatchObject({ errno: Errno.EACCES });
    await ro.clunk();
  });

  test('an aborted blocking read rejects with AbortError; the session goes on', async () => {
    const f = await (await root.walk('block')).open(OREAD);
    const ac = new AbortController();
    const pending = f.read(0, 100, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect((await c.readFile('readme')).toString()).toBe('hello, world\n');
    expect(c.outstanding).toBe(0);
  });

  test('a reply that beats the Rflush is honoured (flush(5))', async () => {
    const f = await (await root.walk('stubborn')).open(OREAD);
    const ac = new AbortController();
    const pending = f.read(0, 100, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await new Promise((r) => setTimeout(r, 20));
    await c.writeFile('release', 'done');
    expect((await pending).toString()).toBe('done');
  });

  test('many requests in flight at once all get their own answers', async () => {
    const reads = Array.from({ length: 200 }, (_, i) => c.readFile(i % 2 ? 'readme' : 'dir/a'));
    const out = (await Promise.all(reads)).map((b) => b.toString());
    out.forEach((s, i) => expect(s).toBe(i % 2 ? 'hello, world\n' : 'abcdef'));
  });
});

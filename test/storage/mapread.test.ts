/**
 * Big reads from mappings (services/storage/src/mapread.ts), seen from outside: the service
 * process maps a file while a fid reads it in 1 MiB Treads (its /proc/<pid>/maps lists the
 * file) and lets it go when the fid is clunked; what it sends is the file as it is now — after
 * writes in the middle, appends past the old end, a truncation — and never past its end; with
 * --map-read-min 0, or the -D trace, nothing is mapped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, type Fid } from '@prose/client';
import { L_O_RDONLY, L_O_RDWR } from '@prose/protocol';
import { fileMap } from '@prose/posix';
import { pattern, startStorage, type Storage } from './helpers.js';

jest.setTimeout(30000);

const MIB = 1024 * 1024;

/** Lines of the process's memory map that name `file`. */
function mapsOf(pid: number, file: string): string[] {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => l.includes(file));
}

/** Everything `f` reads from `offset` on, in Treads of its iounit. */
async function readFrom(f: Fid, offset = 0): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const d = await f.read(offset, f.ioSize);
    if (d.length === 0) return Buffer.concat(parts);
    parts.push(d);
    offset += d.length;
  }
}

const until = async (pred: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const maybe = fileMap() !== undefined ? describe : describe.skip;

maybe('storage reads from mappings', () => {
  let svc: Storage;
  let client: Client;
  let root: Fid;

  beforeAll(async () => {
    svc = await startStorage();
    client = await Client.connect(svc.addr, { msize: MIB + 24 });
    root = await client.attach({});
  });
  afterAll(async () => {
    client?.close();
    await svc?.stop();
  });

  test('a file read in 1 MiB Treads is mapped while its fid is open, let go at clunk; the bytes are the file', async () => {
    const host = path.join(svc.dir, 'six');
    const data = pattern(6 * MIB + 12345, 3);
    fs.writeFileSync(host, data);
    fs.readFileSync(host); // in the page cache: mapped reads need every page in memory
    const f = await (await root.walk('six')).lopen(L_O_RDONLY);
    expect(f.ioSize).toBe(MIB);
    const got = await readFrom(f);
    expect(got.length).toBe(data.length);
    expect(got.equals(data)).toBe(true);
    expect(mapsOf(svc.proc.proc.pid!, host).length).toBeGreaterThan(0);
    await f.clunk();
    await until(() => mapsOf(svc.proc.proc.pid!, host).length === 0);
    fs.unlinkSync(host);
    expect(mapsOf(svc.proc.proc.pid!, host)).toEqual([]);
  });

  test('reads follow the file: a write in the middle, an append past the old end, a truncation', async () => {
    const host = path.join(svc.dir, 'changing');
    const data = pattern(3 * MIB, 5);
    fs.writeFileSync(host, data);
    fs.readFileSync(host);
    const f = await (await root.walk('changing')).lopen(L_O_RDWR);
    try {
      expect((await readFrom(f)).equals(data)).toBe(true);
      // Through 9P, in the middle of a mapped window.
      const patch = pattern(200_000, 9);
      expect(await f.write(MIB + 1000, patch)).toBe(patch.length);
      patch.copy(data, MIB + 1000);
      expect((await f.read(MIB, MIB)).equals(data.subarray(MIB, 2 * MIB))).toBe(true);
      // On the host, past the old end: the window reaches beyond it.
      const more = pattern(MIB + 7, 11);
      fs.appendFileSync(host, more);
      fs.readFileSync(host);
      const grown = Buffer.concat([data, more]);
      expect((await readFrom(f)).equals(grown)).toBe(true);
      expect((await f.read(3 * MIB, MIB)).equals(more.subarray(0, MIB))).toBe(true);
      // Truncated: a read across the new end is short, one past it empty.
      await f.setattr({ size: MIB + 100 });
      expect((await f.read(MIB, MIB)).equals(grown.subarray(MIB, MIB + 100))).toBe(true);
      expect((await f.read(MIB + 100, MIB)).length).toBe(0);
      expect((await f.read(2 * MIB, MIB)).length).toBe(0);
    } finally {
      await f.clunk();
    }
  });

  test.each([
    ['--map-read-min 0', ['--map-read-min', '0']],
    ['the -D trace (it prints reply bytes)', ['-D']],
  ])('with %s nothing is mapped, and the bytes are the same', async (_what, args) => {
    const off = await startStorage(args);
    const c = await Client.connect(off.addr, { msize: MIB + 24 });
    try {
      const host = path.join(off.dir, 'plain');
      const data = pattern(3 * MIB, 7);
      fs.writeFileSync(host, data);
      fs.readFileSync(host);
      const f = await (await (await c.attach({})).walk('plain')).lopen(L_O_RDONLY);
      expect((await readFrom(f)).equals(data)).toBe(true);
      expect(mapsOf(off.proc.proc.pid!, host)).toEqual([]);
      await f.clunk();
    } finally {
      c.close();
      await off.stop();
    }
  });
});

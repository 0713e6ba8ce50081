import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pwritePieces } from './index.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-pwrite-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('writes every byte at the offset, in pieces, with pieces that do not divide the length', async () => {
  const f = path.join(dir, 'f');
  const fd = fs.openSync(f, 'w+');
  try {
    const data = Buffer.from(Array.from({ length: 200_001 }, (_, i) => (i * 7) & 0xff));
    expect(await pwritePieces(fd, data, 4096, 65536)).toBe(data.length);
    expect(await pwritePieces(fd, data.subarray(0, 10), 0, 3)).toBe(10);
    const back = fs.readFileSync(f);
    expect(back.length).toBe(4096 + data.length);
    expect(back.subarray(4096).equals(data)).toBe(true);
    expect(back.subarray(0, 10).equals(data.subarray(0, 10))).toBe(true);
    expect(await pwritePieces(fd, Buffer.alloc(0), 0)).toBe(0);
  } finally {
    fs.closeSync(fd);
  }
});

test('a descriptor not open for writing rejects with EBADF; bad arguments throw', async () => {
  const f = path.join(dir, 'r');
  fs.writeFileSync(f, 'x');
  const fd = fs.openSync(f, 'r');
  try {
    await expect(pwritePieces(fd, Buffer.from('abc'), 0)).rejects.toMatchObject({ code: 'EBADF', syscall: 'pwrite' });
    expect(() => pwritePieces(fd, Buffer.from('abc'), -1)).toThrow(/pwritePieces/);
    expect(() => pwritePieces(fd, Buffer.from('abc'), 0, 0)).toThrow(/pwritePieces/);
  } finally {
    fs.closeSync(fd);
  }
});

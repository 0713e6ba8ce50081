/** copyFrame: private copies of received frames, small ones cut from shared chunks. */
import { copyFrame } from './frame-copy.js';

test('a copy holds the bytes, is a Buffer, and does not change when the source does', () => {
  const ab = new ArrayBuffer(4096);
  const src = new Uint8Array(ab);
  for (let i = 0; i < src.length; i++) src[i] = i & 0xff;
  for (const [at, n] of [[0, 7], [13, 87], [1000, 1023], [5, 1024], [3, 3000]] as const) {
    const c = copyFrame(ab, at, n);
    expect(Buffer.isBuffer(c)).toBe(true);
    expect(c.length).toBe(n);
    expect(Buffer.compare(c, Buffer.from(ab, at, n))).toBe(0);
    expect(c.byteOffset & 7).toBe(at & 7); // the same address mod 8, small or big
    src.fill(0xee, at, at + n);
    expect(c[0]).toBe(at & 0xff);
    for (let i = at; i < at + n; i++) src[i] = i & 0xff;
  }
});

test('copies cut from chunks never overlap, across many chunks', () => {
  const ab = new ArrayBuffer(2048);
  const u8 = new Uint8Array(ab);
  const copies: Array<[Buffer, number]> = [];
  for (let k = 0; k < 2000; k++) {
    const n = 1 + (k * 37) % 900;
    u8.fill(k & 0xff, k % 8, k % 8 + n);
    copies.push([copyFrame(ab, k % 8, n), k & 0xff]);
  }
  for (const [c, v] of copies) expect(c.every((b) => b === v)).toBe(true);
});

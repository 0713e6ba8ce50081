/**
 * SlabReader driven as a socket drives it (`onread.buffer()`, bytes written there, then
 * `onread.callback(n)`), on a stream of big frames: in both modes the read after a big frame is
 * a short probe, so little of a following big frame lands in the slab to be copied out, and
 * every frame arrives whole.
 */
import { SlabReader } from './slab-reader.js';

const MIB = 1024 * 1024;

/** A frame of `size` bytes: size[4], type 117 (Rread), tag, then bytes from `seed`. */
function bigFrame(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(size, 0);
  b[4] = 117;
  b.writeUInt16LE(seed, 5);
  for (let i = 7; i < size; i++) b[i] = (i + seed) & 0xff;
  return b;
}

/** Feeds `stream` to `r` one read at a time, as much as each read's buffer takes; the read sizes. */
function feed(r: SlabReader, stream: Buffer, onFrame: (f: Buffer) => void): number[] {
  const sizes: number[] = [];
  r.onBytes = (n) => r.take(n, onFrame);
  for (let off = 0; off < stream.length; ) {
    const room = r.onread.buffer();
    const n = Math.min(room.length, stream.length - off);
    stream.copy(room, 0, off, off + n);
    sizes.push(room.length);
    off += n;
    r.onread.callback(n);
  }
  return sizes;
}

describe.each(['keep', 'lend'] as const)('SlabReader, %s mode', (mode) => {
  test('after a big frame the next read is a short probe, and big frames arrive whole', () => {
    const r = new SlabReader(8 * MIB);
    const got: Buffer[] = [];
    const releases: Array<() => void> = [];
    if (mode === 'lend') {
      r.lend = (f, release) => {
        got.push(Buffer.from(f));
        releases.push(release);
      };
    }
    const frames = [bigFrame(MIB + 11, 1), bigFrame(MIB + 11, 2), bigFrame(MIB + 11, 3)];
    const sizes = feed(r, Buffer.concat(frames), (f) => got.push(Buffer.from(f)));
    expect(got.length).toBe(3);
    for (let i = 0; i < 3; i++) expect(got[i]!.equals(frames[i]!)).toBe(true);
    // Each frame begins with one read into the slab; for the 2nd and 3rd, a probe of 4 KiB at most.
    const firsts: number[] = [];
    let at = 0;
    let frame = 0;
    for (const s of sizes) {
      if (at === frame * (MIB + 11)) firsts.push(s);
      at += s;
      while (frame < 3 && at >= (frame + 1) * (MIB + 11)) frame++;
    }
    expect(firsts.length).toBeGreaterThanOrEqual(2);
    for (const s of firsts.slice(1)) expect(s).toBeLessThanOrEqual(4096);
    for (const rel of releases) rel();
  });
});

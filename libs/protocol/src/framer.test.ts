import { encode } from './codec.js';
import { Framer, FrameError } from './framer.js';
import { VECTORS } from './test-vectors.js';

const stream = Buffer.concat(VECTORS.map((v) => encode(v.fcall, v.dialects[0]!)));
const expected = VECTORS.map((v) => encode(v.fcall, v.dialects[0]!).toString('hex'));

function run(chunks: Buffer[], max = 1 << 20): string[] {
  const f = new Framer(max);
  const out: string[] = [];
  for (const c of chunks) f.push(c, (fr) => out.push(fr.toString('hex')));
  return out;
}

test('one chunk holding many frames gives each frame, as views', () => {
  const f = new Framer(1 << 20);
  const frames: Buffer[] = [];
  f.push(stream, (fr) => frames.push(fr));
  expect(frames.map((x) => x.toString('hex'))).toEqual(expected);
  expect(frames.every((x) => x.buffer === stream.buffer)).toBe(true);
});

test('every split point of the stream gives the same frames', () => {
  for (let cut = 1; cut < stream.length; cut++) {
    expect(run([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
  }
});

test('byte-at-a-time delivery gives the same frames', () => {
  const bytes = [...stream].map((b) => Buffer.from([b]));
  expect(run(bytes)).toEqual(expected);
});

test('random chunking gives the same frames', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 50; trial++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length;) {
      const n = 1 + Math.floor(rnd() * 40);
      chunks.push(stream.subarray(i, i + n));
      i += n;
    }
    expect(run(chunks)).toEqual(expected);
  }
});

test('size below the header or above msize is a FrameError', () => {
  expect(() => run([Buffer.from([6, 0, 0, 0, 100, 0, 0])])).toThrow(FrameError);
  expect(() => run([Buffer.from([6, 0, 0, 0, 100, 0, 0])])).toThrow(/frame size 6 is below the 7-byte header/);
  expect(() => run([Buffer.from([0, 1, 0, 0])], 255)).toThrow(/frame size 256 exceeds msize 255/);
  // A bad size split across chunks is caught once the 4 size bytes are in.
  expect(() => run([Buffer.from([0xff, 0xff]), Buffer.from([0xff, 0xff])], 8192)).toThrow(/exceeds msize 8192/);
});

test('buffered counts the bytes of an incomplete frame', () => {
  const f = new Framer(1 << 20);
  f.push(stream.subarray(0, 2), () => {});
  expect(f.buffered).toBe(2);
  f.push(stream.subarray(2, 10), () => {});
  expect(f.buffered).toBe(10);
});

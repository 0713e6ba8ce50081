import { MSG_NAMES, MsgType } from './constants.js';
import { decode, encode, encodeVec, peekHeader } from './codec.js';
import { NinepError } from './errors.js';
import { nullDir } from './dir.js';
import { VECTORS } from './test-vectors.js';
import { view } from './wire.js';

describe('golden vectors', () => {
  const cases = VECTORS.flatMap((v) => v.dialects.map((d) => [`${v.name} (${d})`, v, d] as const));

  test.each(cases)('%s encodes to the spec bytes', (_n, v, d) => {
    expect(encode(v.fcall, d).toString('hex')).toBe(v.bytes.toString('hex'));
  });

  test.each(cases)('%s decodes from the spec bytes', (_n, v, d) => {
    expect(decode(v.bytes, d)).toEqual(v.fcall);
  });

  test.each(cases)('%s encodeVec gives the same bytes', (_n, v, d) => {
    expect(Buffer.concat(encodeVec(v.fcall, d)).toString('hex')).toBe(v.bytes.toString('hex'));
  });

  test('every message type but Tlerror and Terror has a vector', () => {
    const covered = new Set(VECTORS.map((v) => v.fcall.type));
    const missing = Object.keys(MSG_NAMES).map(Number)
      .filter((t) => t !== MsgType.Tlerror && t !== MsgType.Terror && !covered.has(t))
      .map((t) => MSG_NAMES[t]);
    expect(missing).toEqual([]);
  });
});

describe('payloads are never copied', () => {
  test('decode returns Twrite data as a view of the frame', () => {
    const v = VECTORS.find((x) => x.name === 'Twrite')!;
    const frame = Buffer.from(v.bytes);
    const f = decode(frame, '9P2000');
    if (f.type !== MsgType.Twrite) throw new Error('wrong type');
    expect(f.data.buffer).toBe(frame.buffer);
    expect(f.data.byteOffset).toBe(frame.byteOffset + 23);
    frame[23] = 0x48;
    expect(f.data.toString()).toBe('Hello');
  });

  test('encodeVec passes the Rread payload through by reference', () => {
    const data = Buffer.alloc(65536, 7);
    const parts = encodeVec({ type: MsgType.Rread, tag: 1, data }, '9P2000.L');
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(data);
    expect(parts[0]!.readUInt32LE(0)).toBe(11 + 65536);
  });

  test('a stat record longer than its 16-bit size field is refused, not wrapped', () => {
    const stat = { ...nullDir(), name: 'a'.repeat(40000), uid: 'b'.repeat(40000) };
    expect(() => encode({ type: MsgType.Rstat, tag: 1, stat }, '9P2000')).toThrow(/stat record of 80047 bytes|16-bit/);
    expect(() => encodeVec({ type: MsgType.Rstat, tag: 1, stat }, '9P2000')).toThrow(/stat record of 80047 bytes|16-bit/);
  });

  test('encodeVec of Twrite and Rwrite (its fast path) gives the bytes encode gives', () => {
    const offsets = [0, 1, 0xffffffff, 0x1_0000_0000, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER];
    for (const [i, offset] of offsets.entries()) {
      for (const n of [0, 1, 300]) {
        const tw = { type: MsgType.Twrite, tag: 0xfffe - i, fid: 0xfffffff0 + i, offset, data: Buffer.alloc(n, i + 1) } as const;
        const parts = encodeVec(tw, '9P2000.L');
        expect(parts).toHaveLength(n > 0 ? 2 : 1);
        if (n > 0) expect(parts[1]).toBe(tw.data);
        expect(Buffer.concat(parts).equals(encode(tw, '9P2000.L'))).toBe(true);
      }
      const rw = { type: MsgType.Rwrite, tag: i, count: 0xffffffff - i } as const;
      expect(Buffer.concat(encodeVec(rw, '9P2000')).equals(encode(rw, '9P2000'))).toBe(true);
    }
  });
});

describe('malformed frames are rejected with EPROTO', () => {
  const errOf = (fn: () => unknown): NinepError => {
    try { fn(); } catch (e) { return e as NinepError; }
    throw new Error('did not throw');
  };

  test.each(VECTORS.filter((v) => v.bytes.length > 7).map((v) => [v.name, v] as const))(
    '%s truncated anywhere in its body', (_n, v) => {
      const d = v.dialects[0]!;
      for (let cut = 7; cut < v.bytes.length; cut++) {
        const short = Buffer.from(v.bytes.subarray(0, cut));
        short.writeUInt32LE(cut, 0);
        const e = errOf(() => decode(short, d));
        expect(e).toBeInstanceOf(NinepError);
        expect(e.code).toBe('EPROTO');
      }
    });

  test('trailing bytes after the body', () => {
    const v = VECTORS.find((x) => x.name === 'Tclunk')!;
    const long = Buffer.concat([v.bytes, Buffer.from([0])]);
    long.writeUInt32LE(long.length, 0);
    expect(errOf(() => decode(long, '9P2000')).message).toMatch(/1 trailing bytes after Tclunk/);
  });

  test('size field disagreeing with the frame', () => {
    const b = Buffer.from(VECTORS.find((x) => x.name === 'Tclunk')!.bytes);
    b.writeUInt32LE(99, 0);
    expect(errOf(() => decode(b, '9P2000')).message).toMatch(/size field 99/);
  });

  test('unknown and illegal types', () => {
    for (const t of [0, 5, 106, 128, 255]) {
      const b = Buffer.from([7, 0, 0, 0, t, 1, 0]);
      expect(errOf(() => decode(b, '9P2000.L')).message).toMatch(/unknown message type/);
    }
  });

  test('a frame shorter than the header', () => {
    expect(errOf(() => decode(Buffer.from([3, 0, 0]), '9P2000')).code).toBe('EPROTO');
    expect(peekHeader(Buffer.from([3, 0, 0]))).toBeUndefined();
  });

  test('a stat record whose size disagrees with its fields', () => {
    const v = VECTORS.find((x) => x.name === 'Rstat')!;
    const b = Buffer.from(v.bytes);
    b.writeUInt16LE(b.readUInt16LE(9) + 1, 9);
    expect(errOf(() => decode(b, '9P2000')).code).toBe('EPROTO');
    // The same 9P2000 bytes are not a valid .u stat (missing the extension fields).
    expect(errOf(() => decode(v.bytes, '9P2000.u')).code).toBe('EPROTO');
  });
});

test('64-bit fields keep their value past 2^32, qid paths all 64 bits', () => {
  const f = { type: MsgType.Tread, tag: 1, fid: 1, offset: 2 ** 52 + 3, count: 1 } as const;
  expect(decode(encode(f, '9P2000'), '9P2000')).toEqual(f);
  // Paths around 2^53, where the codec switches between number and bigint arithmetic.
  for (const path of [0n, 1n, 0xffffffffn, 0x1_0000_0000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 0xffffffffffffffffn]) {
    const r = { type: MsgType.Rattach, tag: 1, qid: { type: 0, version: 0, path } } as const;
    const bytes = encode(r, '9P2000');
    expect(bytes.readBigUInt64LE(7 + 5)).toBe(path);
    expect(decode(bytes, '9P2000')).toEqual(r);
  }
});

test('peekHeader reads type and tag without decoding', () => {
  const v = VECTORS.find((x) => x.name === 'Twalk')!;
  expect(peekHeader(v.bytes)).toEqual({ type: MsgType.Twalk, tag: 5 });
});

test('the Twrite fast path reads every field bit for bit, top bits set', () => {
  const data = Buffer.from('xyz');
  for (const [tag, fid, offset] of [[0xffff, 0xffffffff, 2 ** 53 - 1], [0x8001, 0x80000001, 0xffffffff], [0, 0, 0]]) {
    const m = decode(encode({ type: MsgType.Twrite, tag: tag!, fid: fid!, offset: offset!, data }, '9P2000.L'), '9P2000.L');
    expect(m).toEqual({ type: MsgType.Twrite, tag, fid, offset, data });
  }
});

test('payloads decoded from a plumbing view are plain Buffers, deep-equal to Buffers', () => {
  // Frames from the transport are view()s (not Buffer.prototype itself); what decode hands to
  // users must not be, or assert.deepStrictEqual and toStrictEqual would tell it from a Buffer.
  const data = Buffer.from('payload');
  for (const m of [
    { type: MsgType.Twrite, tag: 1, fid: 2, offset: 3, data },
    { type: MsgType.Rread, tag: 1, data },
  ] as const) {
    const bytes = encode(m, '9P2000.L');
    const frame = view(Buffer.concat([Buffer.alloc(5), bytes]), 5, 5 + bytes.length);
    expect(Buffer.isBuffer(frame)).toBe(true);
    const got = decode(frame, '9P2000.L') as { data: Buffer };
    expect(Object.getPrototypeOf(got.data)).toBe(Buffer.prototype);
    expect(got.data).toStrictEqual(data);
  }
});

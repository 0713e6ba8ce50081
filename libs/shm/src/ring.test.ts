/**
 * The rings in one thread (shmPair): framing, wrap, fragmentation past the ring size, flow
 * control, zero-copy slots, and a hostile peer writing garbage into the words and records.
 */
import { FrameError } from '@prose/protocol';
import { shmPair, ShmError, SHM_MODES, type ShmConn, type ZeroCopyHandler } from './index.js';
import { wHead, wSlots, wTail, ringOffset, makeLayout, REC_SLOT, REC_FRAME, REC_FRAG_FIRST } from './layout.js';
import { echoAll, makeFrame, sleep } from './test-util.js';

const MiB = 1 << 20;

function echo(c: ShmConn): void {
  c.start({ frame: (f) => c.send(f), close: () => {} });
}

describe.each(SHM_MODES)('shmPair, mode %s', (mode) => {
  test('frames of every size class 7..msize+24, ring of 8 KiB (fragments, slots, wrap)', async () => {
    const [a, b] = shmPair({ mode, ringSize: 8192, slotCount: 2, slotSize: 16384 });
    echo(b);
    const sizes = [7, 8, 9, 63, 64, 65, 1000, 2047, 2048, 2049, 4095, 4096, 8191, 8192, 8193, 16320, 16321, 65536 + 23, MiB + 24];
    for (let i = 0; i < 40; i++) sizes.push(7 + ((i * 7919) % 3000)); // odd sizes to walk the wrap point
    const got = await echoAll(a, sizes);
    got.forEach((f, i) => expect(f.equals(makeFrame(sizes[i]!, i))).toBe(true));
    expect(a.stats.txFragmented).toBeGreaterThanOrEqual(2);
    expect(a.stats.txSlotCopy).toBeGreaterThan(0);
    expect(a.stats.txRing).toBeGreaterThan(0);
    a.close();
  });

  test('flow control: 2,000 frames into a 4 KiB ring, sender waits and nothing is lost', async () => {
    const [a, b] = shmPair({ mode, ringSize: 4096, slotCount: 0 });
    const got: number[] = [];
    b.start({ frame: (f) => got.push(f.readUInt16LE(5)), close: () => {} });
    let refused = 0;
    for (let i = 0; i < 2000; i++) if (!a.send(makeFrame(100, i))) refused++;
    expect(refused).toBeGreaterThan(0); // the ring filled up
    await a.drain();
    for (let t = 0; t < 200 && got.length < 2000; t++) await sleep(5);
    expect(got).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    a.close();
  });
});

test('orderly close: the peer gets close() without an error after the last frame', async () => {
  const [a, b] = shmPair({ mode: 'notify' });
  const events: string[] = [];
  b.start({ frame: (f) => events.push(`frame ${f.length}`), close: (err) => events.push(`close ${err ? err.message : 'ok'}`) });
  a.start({ frame: () => {}, close: () => {} });
  a.send(makeFrame(10, 1));
  a.send(makeFrame(20, 2));
  a.close();
  for (let t = 0; t < 100 && events.length < 3; t++) await sleep(2);
  expect(events).toEqual(['frame 10', 'frame 20', 'close ok']);
  expect(b.closed).toBe(true);
});

test('pause holds frames in the ring; resume delivers them in order', async () => {
  const [a, b] = shmPair({ mode: 'notify' });
  const got: number[] = [];
  b.start({ frame: (f) => got.push(f.readUInt16LE(5)), close: () => {} });
  b.pause();
  for (let i = 0; i < 5; i++) a.send(makeFrame(30, i));
  await sleep(20);
  expect(got).toEqual([]);
  b.resume();
  for (let t = 0; t < 100 && got.length < 5; t++) await sleep(2);
  expect(got).toEqual([0, 1, 2, 3, 4]);
  a.close();
});

test('setMaxFrame: a frame above it closes the receiver with a FrameError', async () => {
  const [a, b] = shmPair({ mode: 'notify' });
  const closed = new Promise<Error | undefined>((r) => b.start({ frame: () => {}, close: r }));
  b.setMaxFrame(1000);
  a.send(makeFrame(1001, 1));
  const err = await closed;
  expect(err).toBeInstanceOf(FrameError);
});

describe('zero-copy payload slots', () => {
  test('reserve → send [header, view]: the receiver gets a view into the segment, no copy either side', async () => {
    const [a, b] = shmPair({ mode: 'notify', slotCount: 4, slotSize: 65536 + 4096 });
    const views: Array<{ f: Buffer; release: () => void }> = [];
    const handler: ZeroCopyHandler = { frame: () => { throw new Error('copied'); }, frameRef: (f, release) => views.push({ f, release }), close: () => {} };
    b.start(handler);
    const payload = a.reserve(65536)!;
    expect(payload).toBeDefined();
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
    const hdr = Buffer.alloc(23);
    hdr.writeUInt32LE(23 + 65536, 0);
    hdr[4] = 118;
    a.send([hdr, payload]);
    for (let t = 0; t < 100 && views.length < 1; t++) await sleep(2);
    const { f, release } = views[0]!;
    expect(f.length).toBe(23 + 65536);
    expect(f.buffer).toBeInstanceOf(SharedArrayBuffer); // a view, not a copy
    expect(f.readUInt32LE(0)).toBe(23 + 65536);
    expect(f.subarray(23).equals(payload)).toBe(true);
    expect(a.stats.txSlotZeroCopy).toBe(1);
    expect(b.stats.rxViews).toBe(1);
    // the slot stays the receiver's until released; then the sender can reuse it
    const w = new Int32Array(f.buffer as SharedArrayBuffer, 0, 1024);
    const busy = () => [0, 1, 2, 3].filter((i) => Atomics.load(w, wSlots(0) + i) !== 0).length;
    expect(busy()).toBe(1);
    release();
    release(); // idempotent
    expect(busy()).toBe(0);
    a.close();
  });

  test('all slots held: sends fall back to the ring, nothing is overwritten while held', async () => {
    const [a, b] = shmPair({ mode: 'notify', slotCount: 2, slotSize: 8192 });
    const held: Array<{ f: Buffer; copy: Buffer; release: () => void }> = [];
    const copies: Buffer[] = [];
    b.start({ frame: (f) => copies.push(f), frameRef: (f, release) => held.push({ f, copy: Buffer.from(f), release }), close: () => {} } as ZeroCopyHandler);
    for (let i = 0; i < 6; i++) a.send(makeFrame(4000, i));
    for (let t = 0; t < 100 && held.length + copies.length < 6; t++) await sleep(2);
    expect(held.length).toBe(2); // two slots, both held
    expect(copies.length).toBe(4); // the rest went through the ring
    for (const h of held) expect(h.f.equals(h.copy)).toBe(true); // not overwritten
    for (const h of held) h.release();
    a.send(makeFrame(4000, 9));
    for (let t = 0; t < 100 && held.length < 3; t++) await sleep(2);
    expect(held.length).toBe(3);
    expect(held[2]!.f.equals(makeFrame(4000, 9))).toBe(true);
    a.close();
  });

  test('an ordinary receiver (frame only) gets copies of slot frames and the slot is released at once', async () => {
    const [a, b] = shmPair({ mode: 'notify', slotCount: 1, slotSize: 8192 });
    const got: Buffer[] = [];
    b.start({ frame: (f) => got.push(f), close: () => {} });
    for (let i = 0; i < 3; i++) {
      a.send(makeFrame(5000, i));
      for (let t = 0; t < 100 && got.length < i + 1; t++) await sleep(2);
    }
    expect(got.map((f) => f.buffer instanceof SharedArrayBuffer)).toEqual([false, false, false]);
    got.forEach((f, i) => expect(f.equals(makeFrame(5000, i))).toBe(true));
    expect(a.stats.txSlotCopy).toBe(3); // the one slot was free again each time
    a.close();
  });

  test('unreserve gives a slot back; a header too long for the headroom falls back to copying', async () => {
    const [a, b] = shmPair({ mode: 'notify', slotCount: 1, slotSize: 8192 });
    const got: Buffer[] = [];
    b.start({ frame: (f) => got.push(Buffer.from(f)), close: () => {} });
    const v = a.reserve(100)!;
    expect(a.reserve(100)).toBeUndefined();
    a.unreserve(v);
    const v2 = a.reserve(3000)!;
    v2.fill(5);
    const hdr = Buffer.alloc(100);
    hdr.writeUInt32LE(3100, 0);
    a.send([hdr, v2]);
    for (let t = 0; t < 100 && got.length < 1; t++) await sleep(2);
    expect(got[0]!.equals(Buffer.concat([hdr, Buffer.alloc(3000, 5)]))).toBe(true);
    expect(a.stats.txSlotZeroCopy).toBe(0);
    a.close();
  });
});

describe('hostile peer (fuzzed ring words, record headers and descriptors)', () => {
  const layout = makeLayout({ ringSize: 4096, slotCount: 2, slotSize: 4096 });

  /** One round: side 1 (the attacker) publishes legit frames, then garbage; side 0 must survive. */
  async function round(seed: number): Promise<{ err: Error | undefined; frames: Buffer[] }> {
    let s = seed >>> 0 || 1;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s);
    const [victim, attacker] = shmPair({ mode: 'notify', ringSize: layout.ringSize, slotCount: layout.slotCount, slotSize: layout.slotSize });
    const frames: Buffer[] = [];
    let err: Error | undefined;
    let closed = false;
    victim.start({ frame: (f) => frames.push(Buffer.from(f)), close: (e) => { err = e; closed = true; } });
    attacker.start({ frame: () => {}, close: () => {} });
    for (let i = 0; i < (rnd() % 4); i++) attacker.send(makeFrame(7 + (rnd() % 3000), i));
    await sleep(0);
    const sab = (attacker as unknown as { ep: { sab: SharedArrayBuffer } }).ep.sab;
    const w = new Int32Array(sab, 0, 1024);
    const ring = Buffer.from(sab, ringOffset(layout, 1), layout.ringSize);
    const head = Atomics.load(w, wHead(1)) >>> 0;
    const at = head & (layout.ringSize - 1);
    switch (rnd() % 7) {
      case 0: Atomics.store(w, wHead(1), rnd() | 0); break; // any head
      case 1: Atomics.store(w, wHead(1), (head + 8 * (1 + (rnd() % 1024))) | 0); break; // aligned, maybe plausible
      case 2: Atomics.store(w, wTail(0), rnd() | 0); victim.send(makeFrame(100, 1)); break; // the victim's tx tail
      case 3: { // a record header with random length and kind
        if (at + 16 <= layout.ringSize) {
          ring.writeUInt32LE(rnd() % 8192, at);
          ring.writeUInt32LE(rnd() % 8, at + 4);
          ring.writeUInt32LE(rnd(), at + 8);
          Atomics.store(w, wHead(1), (head + 8 * (1 + (rnd() % 600))) | 0);
        }
        break;
      }
      case 4: { // a slot descriptor with random fields
        if (at + 24 <= layout.ringSize) {
          ring.writeUInt32LE(rnd() % 2 ? 12 : rnd() % 64, at);
          ring.writeUInt32LE(REC_SLOT, at + 4);
          ring.writeUInt32LE(rnd() % 4, at + 8);
          ring.writeUInt32LE(rnd() % 5000, at + 12);
          ring.writeUInt32LE(rnd() % 5000, at + 16);
          Atomics.store(w, wHead(1), (head + 24) | 0);
        }
        break;
      }
      case 5: { // a frame or first fragment whose size field lies, or a skip past its record
        if (at + 32 <= layout.ringSize) {
          ring.writeUInt32LE(16, at);
          ring.writeUInt32LE((rnd() % 2 ? REC_FRAME : REC_FRAG_FIRST) | ((rnd() % 32) << 8), at + 4);
          ring.writeUInt32LE(rnd() % 40, at + 8);
          ring.writeUInt32LE(rnd() % 2 ? rnd() % 40 : rnd(), at + 12 + (rnd() % 3) * 4 - 4);
          Atomics.store(w, wHead(1), (head + 24) | 0);
        }
        break;
      }
      default: // random bytes over the published records, then republish
        for (let i = 0; i < 8; i++) ring[rnd() % layout.ringSize] = rnd() & 0xff;
        Atomics.store(w, wHead(1), (head + 8 * (rnd() % 64)) | 0);
    }
    (attacker as unknown as { ep: { ringPeer(): void } }).ep.ringPeer();
    for (let t = 0; t < 5 && !closed; t++) await sleep(1);
    victim.close();
    return { err, frames };
  }

  test('2,000 rounds: the victim only ever delivers well-formed frames or closes with a transport error', async () => {
    let errors = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const { err, frames } = await round(seed);
      for (const f of frames) {
        expect(f.length).toBeGreaterThanOrEqual(7);
        expect(f.readUInt32LE(0)).toBe(f.length);
      }
      if (err) {
        errors++;
        // never a RangeError/TypeError from an out-of-bounds access
        expect(err instanceof ShmError || err instanceof FrameError).toBe(true);
        if (err instanceof ShmError) expect(err.reason).toBe('corrupt');
      }
    }
    expect(errors).toBeGreaterThan(500);
  }, 60000);
});

test('a header + payload frame keeps its payload word-aligned in the ring, the slot and the copy out', async () => {
  // V8 copies shared memory a word at a time only between equally aligned addresses: the
  // payload after a 23- or 11-byte header is placed (and copied out) at its source's phase.
  const [a, b] = shmPair({ mode: 'notify', ringSize: 65536, slotCount: 16, slotSize: 65536 });
  const got: Buffer[] = [];
  b.start({ frame: (f) => got.push(f), close: () => {} });
  const sent: Buffer[] = [];
  for (const hdrLen of [11, 23]) {
    for (const n of [100, 3000, 40000]) {
      for (const phase of [0, 3]) {
        const whole = makeFrame(hdrLen + n + phase, n + phase + hdrLen);
        const frame = whole.subarray(phase);
        frame.writeUInt32LE(hdrLen + n, 0);
        const payload = Buffer.allocUnsafe(n + 8).subarray(phase, phase + n);
        frame.copy(payload, 0, hdrLen);
        a.send([frame.subarray(0, hdrLen), payload]);
        sent.push(Buffer.from(frame));
      }
    }
  }
  for (let t = 0; t < 100 && got.length < sent.length; t++) await sleep(2);
  expect(got).toHaveLength(sent.length);
  got.forEach((f, i) => {
    expect(f.equals(sent[i]!)).toBe(true);
    if (f.length >= 256) {
      const hdrLen = f.length - (f.length > 20000 ? 40000 : 3000);
      const phase = i % 2 === 0 ? 0 : 3;
      expect([i, (f.byteOffset + hdrLen) & 7]).toEqual([i, phase]);
    }
  });
  expect(a.stats.txRing).toBeGreaterThan(0);
  expect(a.stats.txSlotCopy).toBeGreaterThan(0);
  a.close();
});

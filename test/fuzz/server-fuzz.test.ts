/**
 * Robustness: a live server on a TCP socket takes ≥ 100,000 random and mutated frames
 * (PROSE_FUZZ_FRAMES=1000000 via `make test-fuzz-long`) from several hostile connections while
 * a well-behaved client keeps checking its answers. The server must never crash or leak an
 * unhandled rejection; an impossible frame size closes only that session, with a logged reason;
 * every byte it sends back is a well-framed R-message.
 */
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client } from '@prose/client';
import { Framer, MSG_NAMES, MsgType, NOFID, encode, type Dialect } from '@prose/protocol';
import { Server, Tree, type Logger } from '@prose/server';
import { conformanceTree } from '../conformance/fixture.js';
import { ramfs, ramFile } from '../../libs/server/src/test-ramfs.js';
import { badSizeFrame, fuzzFrame, seeded, type Rng } from './generate.js';

const FRAMES = Number(process.env.PROSE_FUZZ_FRAMES ?? 100000);
const SEED = Number(process.env.PROSE_FUZZ_SEED ?? Date.now() % 1e9);
const HOSTILE = 4;
const BATCH = 64;

jest.setTimeout(Math.max(120000, FRAMES * 2));

interface Tally {
  sent: number;
  replies: number;
  badReplies: string[];
  closedOnBadSize: number;
  reconnects: number;
}

/** One hostile connection's life: handshake (usually), frames in batches, now and then a bad size. */
async function hostile(port: number, rng: Rng, quota: () => boolean, tally: Tally): Promise<void> {
  while (quota()) {
    const sock = net.createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
    tally.reconnects++;
    let closed = false;
    let replies = 0;
    let sent = 0;
    let wake: (() => void) | undefined;
    const gone = new Promise<void>((resolve) => sock.once('close', () => { closed = true; wake?.(); resolve(); }));
    sock.on('end', () => { closed = true; wake?.(); });
    sock.on('error', () => {});
    const framer = new Framer(16 << 20);
    sock.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk, (f) => {
          tally.replies++;
          replies++;
          if (replies >= sent - BATCH) wake?.();
          const type = f[4]!;
          if ((type & 1) === 0 || MSG_NAMES[type] === undefined) tally.badReplies.push(`type ${type}`);
        });
      } catch (e) {
        tally.badReplies.push(`framing: ${(e as Error).message}`);
        sock.destroy();
      }
    });
    const dialect: Dialect = (['9P2000', '9P2000.u', '9P2000.L'] as const)[Math.floor(rng() * 3)]!;
    if (rng() < 0.85) {
      sock.write(encode({ type: MsgType.Tversion, tag: 0xffff, msize: 65536 + 24, version: dialect }, dialect));
      sock.write(encode({ type: MsgType.Tattach, tag: 1, fid: 0, afid: NOFID, uname: 'glenda', aname: '', nUname: 1000 }, dialect));
    }
    // Most connections send well-formed messages with hostile fields and live long; some send
    // byte-mutated frames, which usually end the session at the first undecodable one.
    const mutant = rng() < 0.3;
    const batches = mutant ? 1 + Math.floor(rng() * 4) : 20 + Math.floor(rng() * 80);
    for (let b = 0; b < batches && !closed && quota(); b++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < BATCH; i++) frames.push(fuzzFrame(rng, dialect, mutant ? 0.3 : 0));
      tally.sent += BATCH;
      sent += BATCH;
      sock.write(Buffer.concat(frames));
      // Pace: let the server answer (most of) what was sent before sending more. Blocking reads
      // and flushes mean not every frame is answered at once, so wait at most 200 ms.
      if (replies < sent - BATCH) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 200);
          wake = () => { clearTimeout(t); wake = undefined; resolve(); };
        });
      }
    }
    if (!closed && rng() < 0.3) {
      sock.write(badSizeFrame(rng));
      tally.sent++;
      const t = setTimeout(() => sock.destroy(new Error('server kept a session with an impossible frame size')), 3000);
      await gone;
      clearTimeout(t);
      tally.closedOnBadSize++;
    } else {
      sock.end();
      const t = setTimeout(() => sock.destroy(), 1000);
      await gone;
      clearTimeout(t);
    }
  }
}

/** The well-behaved client: writes, reads back and compares, until told to stop. */
async function wellBehaved(addr: string, stop: () => boolean): Promise<{ ops: number; wrong: string[] }> {
  const c = await Client.connect(addr, { version: '9P2000.L' });
  const wrong: string[] = [];
  let ops = 0;
  try {
    await c.attach({ uname: 'glenda', nUname: 1000, aname: 'good' });
    for (let i = 0; !stop(); i++) {
      const name = `good-${i % 8}`;
      const data = randomBytes(1 + (i % 3000));
      await c.writeFile(name, data);
      const back = await c.readFile(name);
      if (!back.equals(data)) wrong.push(`${name}: read back ${back.length} bytes, wrote ${data.length}`);
      const readme = (await c.readFile('readme')).toString();
      if (readme !== 'hello, world\n') wrong.push(`readme read ${JSON.stringify(readme)}`);
      ops += 2;
    }
  } finally {
    c.close();
  }
  return { ops, wrong };
}

test(`the server survives ${FRAMES} fuzzed frames while a good client is served (seed ${SEED})`, async () => {
  const problems: string[] = [];
  const onRejection = (e: unknown) => problems.push(`unhandled rejection: ${String(e)}`);
  const onException = (e: Error) => problems.push(`uncaught exception: ${e.stack}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const closeReasons: string[] = [];
  const logger: Logger = {
    debug() {}, info() {},
    warn: (msg, f) => { if (/clos/i.test(msg)) closeReasons.push(`${msg} ${JSON.stringify(f)}`); },
    error: (msg, f) => problems.push(`logged error: ${msg} ${JSON.stringify(f)}`),
  };
  // The hostile connections share the conformance tree (and may wreck it); the good client has
  // its own tree under the aname "good", which no hostile frame names.
  const hostileRoot = conformanceTree().root;
  const goodRoot = ramfs('glenda', [ramFile('readme', 'hello, world\n')]).root;
  const tree = new Tree(hostileRoot, { anames: { good: goodRoot } });
  const server = new Server(tree, { logger, maxOutstanding: 64, flushTimeoutMs: 100 });
  const l = await server.listen('tcp!127.0.0.1!0');
  const port = Number(l.addr.split('!').pop());
  const tally: Tally = { sent: 0, replies: 0, badReplies: [], closedOnBadSize: 0, reconnects: 0 };
  let done = false;
  try {
    const good = wellBehaved(l.addr, () => done);
    const quota = () => tally.sent < FRAMES;
    await Promise.all(Array.from({ length: HOSTILE }, (_, i) => hostile(port, seeded(SEED + i), quota, tally)));
    done = true;
    const g = await good;

    expect(tally.sent).toBeGreaterThanOrEqual(FRAMES);
    expect(tally.badReplies).toEqual([]);
    if (process.env.FUZZ_DEBUG) console.log(tally, closeReasons.slice(0, 10), closeReasons.length);
    expect(tally.replies).toBeGreaterThan(FRAMES / 10);
    expect(g.wrong).toEqual([]);
    expect(g.ops).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    if (tally.closedOnBadSize > 0) expect(closeReasons.some((r) => /frame size/.test(r))).toBe(true);

    // Still serving: a fresh client in each dialect gets the right answer.
    for (const version of ['9P2000', '9P2000.u', '9P2000.L'] as const) {
      const c = await Client.connect(l.addr, { version });
      await c.attach({ uname: 'glenda', nUname: 1000, aname: 'good' });
      expect((await c.readFile('readme')).toString()).toBe('hello, world\n');
      c.close();
    }
    process.stdout.write(`fuzz seed ${SEED}: ${tally.sent} frames on ${tally.reconnects} connections, ${tally.replies} replies, ` +
      `${tally.closedOnBadSize} sessions closed on a bad size, ${g.ops} good operations checked\n`);
  } finally {
    done = true;
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await server.close({ timeoutMs: 500 });
  }
});

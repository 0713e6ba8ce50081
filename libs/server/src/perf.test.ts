/**
 * Hot-path smoke check: a null-file Twrite round trip through a session, with a Conn that
 * delivers and collects synchronously, so the time is the server's own CPU (decode, checks,
 * dispatch, encode). The bound is loose (machines differ); the figure is printed.
 */
import { MsgType, NOFID, encode } from '@prose/protocol';
import type { Conn, ConnHandler } from '@prose/transport';
import { dir, file } from './node.js';
import { silentLogger } from './options.js';
import { Server } from './server.js';
import { Tree } from './tree.js';

class LoopConn implements Conn {
  remote = 'loop!client';
  local = 'loop!server';
  closed = false;
  handler!: ConnHandler;
  replies = 0;
  last: Buffer | readonly Buffer[] | undefined;
  start(h: ConnHandler): void {
    this.handler = h;
  }
  send(f: Buffer | readonly Buffer[]): boolean {
    this.replies++;
    this.last = f;
    return true;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  pause(): void {}
  resume(): void {}
  setMaxFrame(): void {}
  close(): void {}
}

const tick = () => new Promise((r) => setImmediate(r));

test('a null-file Twrite round trip costs a few µs of server CPU, and its payload is not copied', async () => {
  const views: boolean[] = [];
  let frame: Buffer = Buffer.alloc(0);
  const nul = file('null', {
    write: (_h, _o, data) => {
      if (views.length < 1) views.push(data.buffer === frame.buffer);
    },
  }, { perm: 0o666 });
  const c = new LoopConn();
  new Server(new Tree(dir('/', [nul])), { logger: silentLogger }).serve(c);
  const d = '9P2000.L';
  c.handler.frame(encode({ type: MsgType.Tversion, tag: 0xffff, msize: 65560, version: d }, d));
  await tick();
  c.handler.frame(encode({ type: MsgType.Tattach, tag: 1, fid: 0, afid: NOFID, uname: 'u', aname: '', nUname: 0 }, d));
  await tick();
  c.handler.frame(encode({ type: MsgType.Twalk, tag: 2, fid: 0, newfid: 1, wname: ['null'] }, d));
  await tick();
  c.handler.frame(encode({ type: MsgType.Tlopen, tag: 3, fid: 1, flags: 1 }, d));
  await tick();
  frame = encode({ type: MsgType.Twrite, tag: 7, fid: 1, offset: 0, data: Buffer.alloc(1024, 1) }, d);
  const N = 20000;
  for (let i = 0; i < 2000; i++) c.handler.frame(frame);
  const before = c.replies;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) c.handler.frame(frame);
  const us = Number(process.hrtime.bigint() - t0) / N / 1000;
  expect(c.replies - before).toBe(N);
  const head = (c.last as readonly Buffer[])[0]!;
  expect([head[4], head.readUInt32LE(7)]).toEqual([MsgType.Rwrite, 1024]);
  expect(views).toEqual([true]);
  console.log(`null Twrite 1 KiB: ${us.toFixed(2)} µs of server CPU per round trip`);
  expect(us).toBeLessThan(50);
});

test('walks and clunks of a tree that answers at once are answered in the same turn (no microtask, no tick)', async () => {
  const c = new LoopConn();
  new Server(new Tree(dir('/', [dir('a', [file('b', { read: () => Buffer.alloc(0) })])])), { logger: silentLogger }).serve(c);
  const d = '9P2000.L';
  c.handler.frame(encode({ type: MsgType.Tversion, tag: 0xffff, msize: 65560, version: d }, d));
  await tick();
  c.handler.frame(encode({ type: MsgType.Tattach, tag: 1, fid: 0, afid: NOFID, uname: 'u', aname: '', nUname: 0 }, d));
  await tick();
  const sync = (t: Parameters<typeof encode>[0]): Buffer => {
    const before = c.replies;
    c.handler.frame(encode(t, d));
    expect(c.replies).toBe(before + 1);
    const last = c.last!;
    return Buffer.isBuffer(last) ? last : Buffer.concat(last);
  };
  expect(sync({ type: MsgType.Twalk, tag: 2, fid: 0, newfid: 1, wname: [] })[4]).toBe(MsgType.Rwalk);
  const two = sync({ type: MsgType.Twalk, tag: 3, fid: 0, newfid: 2, wname: ['a', 'b'] });
  expect([two[4], two.readUInt16LE(7)]).toEqual([MsgType.Rwalk, 2]);
  // A partial walk answers the qids walked so far, at once too; newfid 3 is not created.
  const part = sync({ type: MsgType.Twalk, tag: 4, fid: 0, newfid: 3, wname: ['a', 'nope'] });
  expect([part[4], part.readUInt16LE(7)]).toEqual([MsgType.Rwalk, 1]);
  expect(sync({ type: MsgType.Tclunk, tag: 5, fid: 3 })[4]).toBe(MsgType.Rlerror);
  expect(sync({ type: MsgType.Tclunk, tag: 6, fid: 2 })[4]).toBe(MsgType.Rclunk);
  expect(sync({ type: MsgType.Tclunk, tag: 7, fid: 1 })[4]).toBe(MsgType.Rclunk);
});

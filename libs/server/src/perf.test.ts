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

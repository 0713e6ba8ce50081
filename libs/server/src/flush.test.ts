import { Errno, NinepError, formatFcall } from '@prose/protocol';
import type { Fid } from './fid.js';
import type { Req } from './req.js';
import { RawFs } from './test-rawfs.js';
import { Wire, memoryLogger, startPair } from './test-wire.js';

async function openSlow(wire: Wire, fid = 1): Promise<void> {
  await wire.version('9P2000.u');
  await wire.attach(0);
  await wire.rpc(`Twalk tag 1 fid 0 newfid ${fid} wname [slow]`);
  await wire.rpc(`Topen tag 1 fid ${fid} mode 0`);
}

describe('Tflush (flush(5))', () => {
  test("the flushed handler's AbortSignal fires with 'interrupted'; its error reply is never sent", async () => {
    const fs = new RawFs({ '/slow': '' });
    let seen: Req | undefined;
    fs.read = (_f: Fid<string>, _o: number, _c: number, req: Req) => {
      seen = req;
      return new Promise<Buffer>((_resolve, reject) => {
        req.signal.addEventListener('abort', () => reject(req.signal.reason));
      });
    };
    const { wire } = startPair(fs);
    await openSlow(wire);
    wire.send('Tread tag 5 fid 1 offset 0 count 10');
    await wire.quiet(10);
    expect(seen!.aborted).toBe(false);
    expect(await wire.rpcText('Tflush tag 6 oldtag 5')).toBe('Rflush tag 6');
    expect(seen!.aborted).toBe(true);
    expect(seen!.signal.reason).toBeInstanceOf(NinepError);
    expect((seen!.signal.reason as NinepError).errno).toBe(Errno.EINTR);
    expect(await wire.quiet(20)).toBe(true);
  });

  test('a signal first looked at after the flush is already aborted', async () => {
    const fs = new RawFs({ '/slow': '' });
    let late: AbortSignal | undefined;
    fs.read = (_f: Fid<string>, _o: number, _c: number, req: Req) =>
      new Promise<Buffer>((resolve) => setTimeout(() => {
        late = req.signal;
        resolve(Buffer.from('done anyway'));
      }, 30));
    const { wire } = startPair(fs);
    await openSlow(wire);
    wire.send('Tread tag 5 fid 1 offset 0 count 20');
    wire.send('Tflush tag 6 oldtag 5');
    expect(formatFcall(await wire.next())).toBe('Rread tag 5 data "done anyway"');
    expect(formatFcall(await wire.next())).toBe('Rflush tag 6');
    expect(late!.aborted).toBe(true);
  });

  test('a real result after the flush is sent before the Rflush; several flushes follow in order', async () => {
    const fs = new RawFs({ '/slow': '' });
    let finish: ((b: Buffer) => void) | undefined;
    fs.read = () => new Promise<Buffer>((resolve) => (finish = resolve));
    const { wire } = startPair(fs);
    await openSlow(wire);
    wire.send('Tread tag 5 fid 1 offset 0 count 10');
    wire.send('Tflush tag 6 oldtag 5');
    wire.send('Tflush tag 7 oldtag 5');
    wire.send('Tflush tag 8 oldtag 6');
    expect(await wire.quiet(20)).toBe(true);
    finish!(Buffer.from('result'));
    const got = [];
    for (let i = 0; i < 4; i++) got.push(formatFcall(await wire.next()));
    expect(got).toEqual(['Rread tag 5 data "result"', 'Rflush tag 6', 'Rflush tag 7', 'Rflush tag 8']);
  });

  test('a handler that ignores its flush past flushTimeoutMs is given up: Rflush goes out, the late reply is dropped', async () => {
    const fs = new RawFs({ '/slow': '' });
    let finish: ((b: Buffer) => void) | undefined;
    fs.read = () => new Promise<Buffer>((resolve) => (finish = resolve));
    const { logger, lines } = memoryLogger();
    const { wire, session } = startPair(fs, { flushTimeoutMs: 30, logger });
    await openSlow(wire);
    wire.send('Tread tag 5 fid 1 offset 0 count 10');
    wire.send('Tflush tag 6 oldtag 5');
    expect(await wire.quiet(15)).toBe(true);
    expect(formatFcall(await wire.next())).toBe('Rflush tag 6');
    expect(lines.some((l) => l.level === 'warn' && /did not finish/.test(l.msg))).toBe(true);
    expect(session.outstanding).toBe(0);
    // the client may reuse the tag at once; the old handler's late result must not be taken for it
    expect(await wire.rpcText('Tstat tag 5 fid 0')).toMatch(/^Rstat tag 5 /);
    finish!(Buffer.from('late'));
    expect(await wire.quiet(20)).toBe(true);
  });

  test('flushTimeoutMs 0 waits for ever', async () => {
    const fs = new RawFs({ '/slow': '' });
    let finish: ((b: Buffer) => void) | undefined;
    fs.read = () => new Promise<Buffer>((resolve) => (finish = resolve));
    const { wire } = startPair(fs, { flushTimeoutMs: 0 });
    await openSlow(wire);
    wire.send('Tread tag 5 fid 1 offset 0 count 10');
    wire.send('Tflush tag 6 oldtag 5');
    expect(await wire.quiet(50)).toBe(true);
    finish!(Buffer.from('x'));
    expect(formatFcall(await wire.next())).toBe('Rread tag 5 data "x"');
    expect(formatFcall(await wire.next())).toBe('Rflush tag 6');
  });

  test('a Tversion while flushes wait answers none of them', async () => {
    const fs = new RawFs({ '/slow': '' });
    const { wire } = startPair(fs);
    await openSlow(wire);
    fs.read = () => new Promise<Buffer>(() => {});
    wire.send('Tread tag 5 fid 1 offset 0 count 10');
    wire.send('Tflush tag 6 oldtag 5');
    await wire.quiet(10);
    expect(await wire.version('9P2000.u')).toBe('Rversion tag 65535 msize 8192 version 9P2000.u');
    expect(await wire.quiet(20)).toBe(true);
  });

  test('a request completing synchronously is never pending: its flush is answered at once', async () => {
    const fs = new RawFs({ '/f': 'data' });
    const { wire } = startPair(fs);
    await wire.version();
    await wire.attach(0);
    await wire.rpc('Twalk tag 1 fid 0 newfid 1 wname [f]');
    await wire.rpc('Topen tag 1 fid 1 mode 0');
    wire.send('Tread tag 5 fid 1 offset 0 count 10');
    wire.send('Tflush tag 6 oldtag 5');
    expect(formatFcall(await wire.next())).toBe('Rread tag 5 data "data"');
    expect(formatFcall(await wire.next())).toBe('Rflush tag 6');
  });
});

/**
 * An in-process Conn pair: what one end sends, the other receives, asynchronously and in
 * order, with no sockets. Used to run a server and a client in one process (tests, embedding).
 */
import { FrameError, HEADER_SIZE } from '@prose/protocol';
import { DEFAULT_MAX_FRAME, type Conn, type ConnHandler } from './conn.js';

class PairEnd implements Conn {
  peer!: PairEnd;
  private handler: ConnHandler | undefined;
  private inbox: Buffer[] = [];
  private scheduled = false;
  private paused = false;
  private isClosed = false;
  private closeErr: Error | undefined;
  private maxFrame = DEFAULT_MAX_FRAME;

  constructor(
    readonly local: string,
    readonly remote: string,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  start(handler: ConnHandler): void {
    if (this.handler) throw new Error('Conn.start called twice');
    this.handler = handler;
    if (this.isClosed) handler.close(this.closeErr);
    else this.schedule();
  }

  send(frame: Buffer | readonly Buffer[]): boolean {
    if (this.isClosed) return false;
    const whole = Buffer.isBuffer(frame) ? frame : Buffer.concat(frame as Buffer[]);
    this.peer.deliver(whole);
    return true;
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  setMaxFrame(n: number): void {
    this.maxFrame = n;
  }

  close(err?: Error): void {
    if (this.isClosed) return;
    this.finish(err);
    this.peer.finish(undefined);
  }

  private deliver(frame: Buffer): void {
    if (this.isClosed) return;
    if (frame.length < HEADER_SIZE || frame.length > this.maxFrame) {
      this.close(new FrameError(`frame size ${frame.length} outside ${HEADER_SIZE}..${this.maxFrame}`));
      return;
    }
    this.inbox.push(frame);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.handler) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inbox.length > 0 && !this.paused && !this.isClosed) this.handler!.frame(this.inbox.shift()!);
    });
  }

  private finish(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeErr = err;
    this.handler?.close(err);
  }
}

/** Two connected Conns. */
export function connPair(name = 'pipe'): [Conn, Conn] {
  const a = new PairEnd(`${name}!a`, `${name}!b`);
  const b = new PairEnd(`${name}!b`, `${name}!a`);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

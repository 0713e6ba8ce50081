/**
 * A Conn over a Node stream socket (TCP or Unix): framing on receive, corked vectored writes
 * on send, backpressure both ways.
 */
import type { Socket } from 'node:net';
import { Framer } from '@prose/protocol';
import { DEFAULT_MAX_FRAME, type Conn, type ConnHandler } from './conn.js';

export class SocketConn implements Conn {
  readonly remote: string;
  readonly local: string;
  private handler: ConnHandler | undefined;
  private readonly framer: Framer;
  private held: Buffer[] = [];
  private paused = false;
  private corked = false;
  private isClosed = false;
  private closeErr: Error | undefined;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    names: { remote: string; local: string },
    maxFrame = DEFAULT_MAX_FRAME,
  ) {
    this.remote = names.remote;
    this.local = names.local;
    this.framer = new Framer(maxFrame);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.wakeDrain());
    socket.on('error', (err) => this.finish(err, true));
    socket.on('close', () => this.finish(undefined, false));
    socket.on('end', () => socket.end());
    socket.pause();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  start(handler: ConnHandler): void {
    if (this.handler) throw new Error('Conn.start called twice');
    this.handler = handler;
    if (this.isClosed) {
      handler.close(this.closeErr);
      return;
    }
    this.flushHeld();
    if (!this.paused) this.socket.resume();
  }

  send(frame: Buffer | readonly Buffer[]): boolean {
    if (this.isClosed) return false;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        if (!this.corked) return;
        this.corked = false;
        this.socket.uncork();
      });
    }
    let ok = true;
    if (Buffer.isBuffer(frame)) ok = this.socket.write(frame);
    else for (const part of frame) ok = this.socket.write(part);
    return ok;
  }

  drain(): Promise<void> {
    if (this.isClosed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flushHeld();
    if (!this.paused && this.handler && !this.isClosed) this.socket.resume();
  }

  setMaxFrame(n: number): void {
    this.framer.maxSize = n;
  }

  /**
   * Closes the channel. Frames already queued are still written (the socket is ended, not
   * destroyed), so a reply sent just before a protocol error reaches the peer; a peer that
   * does not close its side within a second is cut off.
   */
  close(err?: Error): void {
    if (this.isClosed) return;
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.finish(err, false);
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    try {
      this.framer.push(chunk, (f) => {
        if (this.paused || !this.handler || this.held.length > 0) this.held.push(f);
        else this.handler.frame(f);
      });
    } catch (err) {
      this.close(err as Error);
    }
  }

  private flushHeld(): void {
    while (this.held.length > 0 && !this.paused && this.handler && !this.isClosed) {
      this.handler.frame(this.held.shift()!);
    }
  }

  private wakeDrain(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  private finish(err: Error | undefined, destroy: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeErr = err;
    if (destroy) this.socket.destroy();
    this.wakeDrain();
    this.handler?.close(err);
  }
}

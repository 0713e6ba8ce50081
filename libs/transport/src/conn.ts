/**
 * The one transport interface: an ordered, framed, duplex channel of 9P messages.
 * TCP, Unix sockets, the in-process pair and (later) shared-memory rings all implement it,
 * so the server and the client never know which one they run over.
 */

/** What a Conn delivers to its owner. */
export interface ConnHandler {
  /**
   * One whole frame (size[4] included), in arrival order. The Buffer may be a view into a
   * larger receive buffer: keep it only as long as the message needs it.
   */
  frame(frame: Buffer): void;
  /** Called once when the channel is gone: `err` says why, undefined for an orderly close. */
  close(err?: Error): void;
  /**
   * Optional, for transports with zero-copy receive (shared memory): when present, a frame
   * that sits in memory the peer shares may be delivered here in place, instead of a copy
   * through `frame`. The view is valid until `release()` is called, which the handler must do
   * once nothing reads it any more (until then the peer cannot reuse that memory; after it the
   * view must not be read). Transports without zero copy never call it.
   */
  frameRef?(frame: Buffer, release: () => void): void;
  /**
   * Optional, with `frameRef`, for transports that lend receive memory they will reuse (a
   * socket with `lendFrames`): asked with a frame's type and tag (from its first 7 bytes), true
   * to have it lent through `frameRef`, false to have it delivered through `frame` as the
   * handler's own (for a big frame, a buffer of its own, without a copy). Without it, every
   * frame big enough to lend is lent. A transport may still lend a frame it could not ask
   * about (its first bytes arrived after it had to choose), so `frameRef` must handle any.
   */
  lendable?(type: number, tag: number): boolean;
}

export interface Conn {
  /** A dial string naming the peer, e.g. `tcp!127.0.0.1!41234` or `unix!/run/x.sock`. */
  readonly remote: string;
  /** A dial string naming this end. */
  readonly local: string;
  /** True once closed (by either side). */
  readonly closed: boolean;

  /**
   * Starts delivery to `handler`. Call once; frames received before are held until then.
   */
  start(handler: ConnHandler): void;

  /**
   * Queues one frame, given whole or as parts that are written back to back (the caller need not
   * concatenate them; a transport may copy a small batch into one buffer, never a large
   * payload). Frames queued in the same tick are written together. Returns false
   * when the send buffer is above its high-water mark: the caller should wait for `drain()`
   * before queueing much more. Sending on a closed Conn is a no-op returning false.
   */
  send(frame: Buffer | readonly Buffer[]): boolean;

  /** Resolves when the send buffer has drained below its high-water mark (or the Conn closed). */
  drain(): Promise<void>;

  /** Stops delivering frames (receive backpressure) until `resume()`. */
  pause(): void;
  resume(): void;

  /** Largest frame accepted from the peer; a larger size field closes the Conn with a FrameError. */
  setMaxFrame(n: number): void;

  /** Closes the channel; the handler's `close` is called with `err`. Idempotent. */
  close(err?: Error): void;

  /**
   * Optional reply memory: a writable Buffer of `n` bytes owned by the transport, or undefined
   * when it has none to give (then use an ordinary Buffer). Shared memory gives a slot the peer
   * reads in place: sending a frame whose last part is that Buffer (with at most 64 bytes of
   * parts before it) moves no payload byte. Sockets give big buffers from a pool, reused once
   * the socket has written them. A reservation must be sent or given back with `unreserve`
   * soon: its memory is not reused until then.
   */
  reserve?(n: number): Buffer | undefined;
  /** Gives back a Buffer from `reserve` that will not be sent (any other Buffer is ignored). */
  unreserve?(view: Buffer): void;

  /**
   * True when `send` takes volatile parts (volatile.ts: memory only the kernel may read, such
   * as a file mapping) and copies them safely before keeping them. Absent or false: never send
   * such memory on this Conn.
   */
  readonly volatileParts?: boolean;
}

/** A bound server endpoint. */
export interface Listener {
  /** The dial string clients use to reach it (with the real port when 0 was asked for). */
  readonly addr: string;
  /** Stops accepting; existing Conns stay open. */
  close(): Promise<void>;
}

/** Default largest frame before version negotiation lowers it: 8 MiB + IOHDRSZ. */
export const DEFAULT_MAX_FRAME = 8 * 1024 * 1024 + 24;

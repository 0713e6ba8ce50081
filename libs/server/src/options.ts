/**
 * Server options, their defaults, and the logger interface.
 */
import { VERSION9P, VERSION9PL, VERSION9PU, type Dialect } from '@prose/protocol';

/** Where the server reports what goes wrong. Called off the hot path only. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Warnings and errors to stderr; debug and info dropped. The default. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (msg, fields) => console.error(`warn: ${msg}`, fields ?? ''),
  error: (msg, fields) => console.error(`error: ${msg}`, fields ?? ''),
};

/** Drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The smallest msize a client may ask for (Plan 9 devmnt and Inferno refuse less). */
export const MIN_MSIZE = 256;

/** Limits, dialects, logging and tracing of a Server; every field has a default. */
export interface ServerOptions {
  /** Largest msize offered; the session uses min(client's, this). Default 8 MiB + IOHDRSZ. */
  maxMsize?: number;
  /** Dialects accepted in Tversion. Default all three. */
  dialects?: readonly Dialect[];
  /** Version suffixes accepted whole, e.g. "prose.1" for "9P2000.L.prose.1". Default none. */
  extensions?: readonly string[];
  /** Fids per session; one more is answered "too many fids in session". Default 4096. */
  maxFids?: number;
  /** Outstanding requests per session; one more is answered "too many outstanding requests". Default 1024. */
  maxOutstanding?: number;
  /** Concurrent sessions; a connection beyond is closed with a logged reason. Default 10000. */
  maxSessions?: number;
  /**
   * How long a flushed request may take to finish before its Rflush is sent anyway and its late
   * reply dropped (flush(5) lets the server answer at once). 0 waits for ever. Default 5000 ms.
   */
  flushTimeoutMs?: number;
  /** Default consoleLogger. */
  logger?: Logger;
  /**
   * The -D trace: called with every T- and R-message in the text form, e.g.
   * `3 <- Twalk tag 1 fid 0 newfid 1 wname [a]` and `3 -> Rwalk tag 1 wqid [...]`
   * (session id, direction, message with payloads cut at 64 bytes). Costs nothing when unset.
   */
  trace?: (line: string) => void;
}

/** @internal Options with the defaults filled in. */
export interface ResolvedOptions {
  maxMsize: number;
  dialects: readonly Dialect[];
  extensions: readonly string[];
  maxFids: number;
  maxOutstanding: number;
  maxSessions: number;
  flushTimeoutMs: number;
  logger: Logger;
  trace: ((line: string) => void) | undefined;
}

/** Default largest msize: 8 MiB of payload plus IOHDRSZ. */
export const DEFAULT_MAX_MSIZE = 8 * 1024 * 1024 + 24;

/** @internal */
export function resolveOptions(o: ServerOptions): ResolvedOptions {
  const maxMsize = o.maxMsize ?? DEFAULT_MAX_MSIZE;
  if (!(maxMsize >= MIN_MSIZE) || maxMsize > 0xffffffff) throw new RangeError(`maxMsize ${maxMsize} out of range`);
  return {
    maxMsize,
    dialects: o.dialects ?? [VERSION9P, VERSION9PU, VERSION9PL],
    extensions: o.extensions ?? [],
    maxFids: o.maxFids ?? 4096,
    maxOutstanding: o.maxOutstanding ?? 1024,
    maxSessions: o.maxSessions ?? 10000,
    flushTimeoutMs: o.flushTimeoutMs ?? 5000,
    logger: o.logger ?? consoleLogger,
    trace: o.trace,
  };
}

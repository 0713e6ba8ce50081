/**
 * Test helper: drives a server over a Conn with raw T-messages (Fcall objects or the text form)
 * and collects its R-messages, by tag or in arrival order. Not part of the build.
 */
import {
  NOFID, NOTAG, MsgType, decode, dialectOf, encode, formatFcall, matchText, nullDir, parseFcall, type Dialect,
  type Fcall,
} from '@prose/protocol';
import { connPair, type Conn } from '@prose/transport';
import { Server } from './server.js';
import { silentLogger, type ServerOptions } from './options.js';
import type { Session } from './session.js';
import type { Srv } from './srv.js';

/** The dialect a version string stands for ("9P2000.L.x" → "9P2000.L"), or undefined. */
export function dialectOfVersion(v: string): Dialect | undefined {
  for (let s = v; ; ) {
    const d = dialectOf(s);
    if (d) return d;
    const dot = s.lastIndexOf('.');
    if (dot < 0) return undefined;
    s = s.slice(0, dot);
  }
}

/**
 * Text form with the words NOTAG and NOFID allowed for their numbers; in a Twstat the fields
 * left out of the stat are "don't touch" (`Twstat tag 1 fid 2 stat {name new}`).
 */
export function parseLine(line: string): Fcall {
  const f = parseFcall(line.replace(/\bNOTAG\b/g, String(NOTAG)).replace(/\bNOFID\b/g, String(NOFID)));
  if (f.type === MsgType.Twstat) f.stat = { ...nullDir(), ...f.stat };
  return f;
}

export class Wire {
  /**
   * The dialect used to encode and decode: the one asked for from the moment a Tversion is
   * sent, kept if the server agrees, back to 9P2000 (no session) if it does not.
   */
  dialect: Dialect = '9P2000';
  private versionTag: number | undefined;
  closed = false;
  closeErr: Error | undefined;
  private inbox: Fcall[] = [];
  private wake: (() => void) | undefined;

  constructor(readonly conn: Conn) {
    conn.start({
      frame: (b) => {
        let f: Fcall;
        try {
          f = decode(b, this.dialect);
        } catch (err) {
          conn.close(err as Error);
          return;
        }
        const isReply = f.type === MsgType.Rversion || f.type === MsgType.Rerror || f.type === MsgType.Rlerror;
        if (f.tag === this.versionTag && isReply) {
          this.versionTag = undefined;
          this.dialect = (f.type === MsgType.Rversion && dialectOfVersion(f.version)) || '9P2000';
        }
        this.inbox.push(f);
        this.poke();
      },
      close: (err) => {
        this.closed = true;
        this.closeErr = err;
        this.poke();
      },
    });
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async until<T>(pick: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pick();
      if (v !== undefined) return v;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}${this.closeErr ? `: ${this.closeErr.message}` : ''}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; have [${this.inbox.map((f) => formatFcall(f)).join(', ')}]`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Sends a T-message (object or text form; NOTAG/NOFID allowed in text). Returns it. */
  send(t: Fcall | string): Fcall {
    const f = typeof t === 'string' ? parseLine(t) : t;
    if (f.type === MsgType.Tversion) {
      this.versionTag = f.tag;
      this.dialect = dialectOfVersion(f.version) ?? '9P2000';
    }
    this.conn.send(encode(f, this.dialect));
    return f;
  }

  /** Sends raw bytes (a malformed frame, say). */
  sendRaw(b: Buffer): void {
    this.conn.send(b);
  }

  /** The next R-message to arrive, in order. */
  next(timeoutMs = 2000): Promise<Fcall> {
    return this.until(() => this.inbox.shift(), timeoutMs, 'the next reply');
  }

  /** The reply with `tag` (others stay queued). */
  reply(tag: number, timeoutMs = 2000): Promise<Fcall> {
    return this.until(() => {
      const i = this.inbox.findIndex((f) => f.tag === tag);
      return i < 0 ? undefined : this.inbox.splice(i, 1)[0];
    }, timeoutMs, `the reply to tag ${tag}`);
  }

  /** Sends and waits for the reply with the same tag. */
  async rpc(t: Fcall | string, timeoutMs = 2000): Promise<Fcall> {
    const f = this.send(t);
    return this.reply(f.tag, timeoutMs);
  }

  /** rpc, answered in the text form. */
  async rpcText(t: Fcall | string, timeoutMs = 2000): Promise<string> {
    return formatFcall(await this.rpc(t, timeoutMs));
  }

  /** True when nothing arrives for `ms`. */
  async quiet(ms = 30): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.inbox.length === 0;
  }

  /** Messages received and not yet taken. */
  get pending(): Fcall[] {
    return this.inbox;
  }

  /** Resolves when the server closed the connection. */
  async whenClosed(timeoutMs = 2000): Promise<Error | undefined> {
    await this.until(() => (this.closed ? true : undefined), timeoutMs, 'the connection to close');
    return this.closeErr;
  }

  /** Tversion; returns the text of the reply. */
  version(version: string = '9P2000', msize = 8192): Promise<string> {
    return this.rpcText(`Tversion tag NOTAG msize ${msize} version ${version}`);
  }

  /** Tattach of `fid` (afid NOFID); returns the text of the reply. */
  attach(fid = 0, uname = 'glenda', aname = ''): Promise<string> {
    const nu = this.dialect === '9P2000' ? '' : ' nUname 1000';
    return this.rpcText(`Tattach tag 1 fid ${fid} afid NOFID uname ${uname} aname ${JSON.stringify(aname)}${nu}`);
  }

  close(): void {
    this.conn.close();
  }
}

/**
 * A pattern check with a readable failure: resolves to `pattern` when `text` matches it (so a
 * test writes `expect(await like(...)).toBe(pattern)`), else to the text itself.
 */
export function like(pattern: string, text: string): string {
  return matchText(pattern, text) ? pattern : text;
}

/** A server for `srv` on an in-process pair, and a Wire on the other end. */
export function startPair(srv: Srv<any>, opts: ServerOptions = {}): { server: Server<any>; session: Session; wire: Wire } {
  const server = new Server(srv, { logger: silentLogger, ...opts });
  const [a, b] = connPair();
  const session = server.serve(a)!;
  return { server, session, wire: new Wire(b) };
}

/** A logger that keeps what it is told, for assertions. */
export function memoryLogger(): { logger: ServerOptions['logger'] & object; lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/**
 * Control messages (Plan 9 parsecmd/lookupcmd): a write such as "connect 127.0.0.1!80" is split
 * into words and dispatched through a table that checks the argument count. Bad messages are
 * answered "bad ctl message: <why>: "<the message>"" (EINVAL).
 */
import { Ename, Errno, NinepError } from '@prose/protocol';
import type { FileOps, Handle } from './node.js';
import { isThenable } from './reply.js';
import type { Req } from './req.js';
import type { Awaitable } from './srv.js';

/** One entry of a command table. */
export interface Cmd<C = void> {
  /** The command word; "*" matches any command not in the table. */
  name: string;
  /** How many words may follow the command: exactly n, [min, max], or any when absent. */
  args?: number | readonly [min: number, max: number];
  /** Runs the command with the words after it (`words` has them all, the command first). */
  run(args: string[], ctx: C, words: string[]): Awaitable<unknown>;
}

/** A command table (Plan 9 Cmdtab). */
export type Cmdtab<C = void> = readonly Cmd<C>[];

/** The error for a bad control message, naming it. */
export function ctlError(why: string, msg: string): NinepError {
  return new NinepError(`${Ename.badctl}: ${why}: ${JSON.stringify(msg)}`, Errno.EINVAL);
}

const BLANK = /[ \t\r\n]/;

/**
 * Splits a control message into words (Plan 9 tokenize): blanks separate words, single quotes
 * quote (a doubled quote inside is a quote), a trailing newline is nothing special.
 * Throws on an unterminated quote.
 */
export function parseCmd(msg: Buffer | string): string[] {
  const s = typeof msg === 'string' ? msg : msg.toString('utf8');
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && BLANK.test(s[i]!)) i++;
    if (i >= s.length) break;
    let w = '';
    let quoted = false;
    while (i < s.length && (quoted || !BLANK.test(s[i]!))) {
      const c = s[i]!;
      if (c === "'") {
        if (quoted && s[i + 1] === "'") {
          w += "'";
          i += 2;
          continue;
        }
        quoted = !quoted;
        i++;
        continue;
      }
      w += c;
      i++;
    }
    if (quoted) throw ctlError('unterminated quote', s.trim());
    out.push(w);
  }
  return out;
}

function wants(args: number | readonly [number, number]): string {
  if (typeof args === 'number') return `${args} argument${args === 1 ? '' : 's'}`;
  return `${args[0]} to ${args[1]} arguments`;
}

/** The table entry for `words` (command first), its argument count checked. */
export function lookupCmd<C>(table: Cmdtab<C>, words: readonly string[]): Cmd<C> {
  const msg = words.join(' ');
  if (words.length === 0) throw ctlError('empty message', msg);
  const name = words[0]!;
  const c = table.find((e) => e.name === name) ?? table.find((e) => e.name === '*');
  if (c === undefined) throw ctlError('unknown command', msg);
  const n = words.length - 1;
  const a = c.args;
  if (a !== undefined && (typeof a === 'number' ? n !== a : n < a[0] || n > a[1])) {
    throw ctlError(`${name} wants ${wants(a)}`, msg);
  }
  return c;
}

/** Parses one control message and runs its command with `ctx`. */
export function runCmd<C>(table: Cmdtab<C>, msg: Buffer | string, ctx: C): Awaitable<unknown> {
  const words = parseCmd(msg);
  return lookupCmd(table, words).run(words.slice(1), ctx, words);
}

/** What a ctl command of a tree file gets: the open file and the request. */
export interface CtlCall<S = any> {
  h: Handle<S>;
  req: Req;
}

/** A `FileOps.write` that runs each write as one control message through `table`. */
export function ctlWrite<S = any>(table: Cmdtab<CtlCall<S>>): NonNullable<FileOps<S>['write']> {
  return (h, _offset, data, req) => {
    const v = runCmd(table, data, { h, req });
    return isThenable(v) ? Promise.resolve(v).then(() => data.length) : data.length;
  };
}

/**
 * Transcripts: 9P conversations written as text, run against a live server.
 *
 * A transcript is a file of lines:
 *
 *   # walk(5): a comment; by convention each case starts with the man-page rule it pins
 *   dialects 9P2000 9P2000.L       run in these dialects only (default: all three); before any message
 *   Twalk tag 1 fid 0 newfid 1 wname [dir a]     a T-line: sent at once, in the text form
 *   Rwalk tag 1 wqid [* *]         an R-line: the next reply must match (matchText: `*` is any one
 *                                  value, a final `...` any remaining fields)
 *   unordered                      the R-lines up to `end` are a set: the replies arrive in any order
 *   end
 *   quiet 20                       no reply arrives for 20 ms (a request is being held)
 *   sleep 20                       wait 20 ms
 *   raw 0700000064ffff             send raw bytes (hex)
 *   closed                         the server closes the connection
 *   [L] Tlopen tag 1 fid 1 flags 0   a prefix [9p] [u] [L] (or several: [u L]) keeps a line only
 *                                  in those dialects
 *
 * Payloads print as JSON strings when they are UTF-8; an R-line whose data is written `hex:...`
 * is compared in hex.
 *
 * Substitutions: `$version` is the dialect under test; `NOTAG` and `NOFID` are their numbers.
 * An `Rerror tag T ename E [errno N]` line stands for the error in every dialect: Rerror{ename}
 * in 9P2000, Rerror{ename, errno} in .u, Rlerror{ecode} in .L (errno `*` when not given). Before a
 * session is negotiated errors are in the 9P2000 form.
 *
 * Replies must come in the order written (apart from `unordered` sets), and none may be left
 * over at the end.
 */
import { formatFcall, matchText, type Dialect, type Fcall } from '@prose/protocol';
import type { Wire } from '../../libs/server/src/test-wire.js';

export const ALL_DIALECTS: Dialect[] = ['9P2000', '9P2000.u', '9P2000.L'];

const PREFIX: Record<string, Dialect> = { '9p': '9P2000', u: '9P2000.u', L: '9P2000.L' };

export interface Line {
  no: number;
  /** Dialects the line is kept in; undefined for all. */
  only: Dialect[] | undefined;
  text: string;
}

export interface Transcript {
  file: string;
  dialects: Dialect[];
  /** The man-page rules named in comments (`# walk(5): ...`). */
  rules: string[];
  lines: Line[];
}

export type Step =
  | { kind: 'send'; no: number; text: string }
  | { kind: 'expect'; no: number; pattern: string }
  | { kind: 'set'; no: number; patterns: Array<{ no: number; pattern: string }> }
  | { kind: 'quiet' | 'sleep'; no: number; ms: number }
  | { kind: 'raw'; no: number; bytes: Buffer }
  | { kind: 'closed'; no: number };

/** Parses a transcript file. Throws naming the line of a syntax error. */
export function parseTranscript(file: string, source: string): Transcript {
  const t: Transcript = { file, dialects: ALL_DIALECTS, rules: [], lines: [] };
  source.split('\n').forEach((raw, i) => {
    const no = i + 1;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s*([a-z0-9]+\(\d\)[^:]*|9P2000\.L [^:]+):/.exec(line);
      if (m) t.rules.push(m[1]!);
      return;
    }
    let only: Dialect[] | undefined;
    let text = line;
    const pm = /^\[([^\]]+)\]\s*(.*)$/.exec(line);
    if (pm) {
      only = pm[1]!.split(/\s+/).map((p) => {
        const d = PREFIX[p];
        if (!d) throw new Error(`${file}:${no}: unknown dialect prefix "${p}"`);
        return d;
      });
      text = pm[2]!;
    }
    if (text.startsWith('dialects ')) {
      if (t.lines.length > 0) throw new Error(`${file}:${no}: dialects must come before any message`);
      t.dialects = text.split(/\s+/).slice(1).map((d) => {
        if (!ALL_DIALECTS.includes(d as Dialect)) throw new Error(`${file}:${no}: unknown dialect ${d}`);
        return d as Dialect;
      });
      return;
    }
    t.lines.push({ no, only, text });
  });
  return t;
}

function substitute(text: string, dialect: Dialect): string {
  return text.replace(/\$version\b/g, dialect).replace(/\bNOTAG\b/g, '65535').replace(/\bNOFID\b/g, '4294967295');
}

const RERROR = /^Rerror tag (\S+) ename ("(?:[^"\\]|\\.)*"|\S+)(?: errno (\S+))?\s*$/;

/** An Rerror pattern in the form of `dialect` (see the header). */
export function errorPattern(pattern: string, dialect: Dialect): string {
  const m = RERROR.exec(pattern);
  if (!m) return pattern;
  const [, tag, ename, errno] = m;
  switch (dialect) {
    case '9P2000': return `Rerror tag ${tag} ename ${ename}`;
    case '9P2000.u': return `Rerror tag ${tag} ename ${ename} errno ${errno ?? '*'}`;
    default: return `Rlerror tag ${tag} ecode ${errno ?? '*'}`;
  }
}

/** The steps of a transcript in one dialect. */
export function stepsFor(t: Transcript, dialect: Dialect): Step[] {
  const steps: Step[] = [];
  let set: Extract<Step, { kind: 'set' }> | undefined;
  for (const l of t.lines) {
    if (l.only && !l.only.includes(dialect)) continue;
    const text = substitute(l.text, dialect);
    const word = text.split(/\s+/)[0]!;
    if (word === 'unordered') {
      if (set) throw new Error(`${t.file}:${l.no}: nested unordered`);
      set = { kind: 'set', no: l.no, patterns: [] };
      continue;
    }
    if (word === 'end') {
      if (!set) throw new Error(`${t.file}:${l.no}: end without unordered`);
      steps.push(set);
      set = undefined;
      continue;
    }
    if (word.startsWith('R')) {
      if (set) set.patterns.push({ no: l.no, pattern: text });
      else steps.push({ kind: 'expect', no: l.no, pattern: text });
      continue;
    }
    if (set) throw new Error(`${t.file}:${l.no}: only R-lines may be inside unordered`);
    if (word.startsWith('T')) steps.push({ kind: 'send', no: l.no, text });
    else if (word === 'quiet' || word === 'sleep') steps.push({ kind: word, no: l.no, ms: Number(text.split(/\s+/)[1] ?? 20) });
    else if (word === 'raw') steps.push({ kind: 'raw', no: l.no, bytes: Buffer.from(text.split(/\s+/)[1] ?? '', 'hex') });
    else if (word === 'closed') steps.push({ kind: 'closed', no: l.no });
    else throw new Error(`${t.file}:${l.no}: cannot read "${text}"`);
  }
  if (set) throw new Error(`${t.file}: unordered without end`);
  return steps;
}

/**
 * The text of a reply for matching against `pattern`: payloads print as JSON strings when they
 * are UTF-8, so when the pattern writes its data as hex: the reply's data is shown as hex too.
 */
function textFor(f: Fcall, pattern: string): string {
  if (!/\bdata hex:/.test(pattern) || !('data' in f)) return formatFcall(f);
  return formatFcall({ ...f, data: Buffer.alloc(0) }).replace(/data ""/, `data hex:${f.data.toString('hex')}`);
}

/** Runs the steps against a server at the other end of `wire`; throws at the first mismatch. */
export async function runSteps(file: string, steps: Step[], wire: Wire, timeoutMs = 2000): Promise<void> {
  const where = (no: number) => `${file}:${no}`;
  for (const s of steps) {
    switch (s.kind) {
      case 'send':
        try {
          wire.send(s.text);
        } catch (err) {
          throw new Error(`${where(s.no)}: cannot send "${s.text}": ${(err as Error).message}`);
        }
        break;
      case 'expect': {
        const pattern = errorPattern(s.pattern, wire.dialect);
        const got = textFor(await wire.next(timeoutMs).catch((e: Error) => {
          throw new Error(`${where(s.no)}: expected ${pattern}\n  but ${e.message}`);
        }), pattern);
        if (!matchText(pattern, got)) throw new Error(`${where(s.no)}: expected\n  ${pattern}\ngot\n  ${got}`);
        break;
      }
      case 'set': {
        const pats = s.patterns.map((p) => ({ ...p, pattern: errorPattern(p.pattern, wire.dialect), hit: false }));
        const got: string[] = [];
        for (let i = 0; i < pats.length; i++) {
          got.push(formatFcall(await wire.next(timeoutMs).catch((e: Error) => {
            throw new Error(`${where(s.no)}: expected ${pats.length} replies in any order, got [${got.join('; ')}], then ${e.message}`);
          })));
        }
        for (const g of got) {
          const p = pats.find((x) => !x.hit && matchText(x.pattern, g));
          if (!p) {
            throw new Error(`${where(s.no)}: reply not expected in this set:\n  ${g}\nset:\n  ${pats.map((x) => x.pattern).join('\n  ')}\ngot:\n  ${got.join('\n  ')}`);
          }
          p.hit = true;
        }
        break;
      }
      case 'quiet':
        if (!(await wire.quiet(s.ms))) {
          throw new Error(`${where(s.no)}: expected no reply for ${s.ms} ms, got ${wire.pending.map((f) => formatFcall(f)).join('; ')}`);
        }
        break;
      case 'sleep':
        await new Promise((r) => setTimeout(r, s.ms));
        break;
      case 'raw':
        wire.sendRaw(s.bytes);
        break;
      case 'closed':
        await wire.whenClosed(timeoutMs).catch((e: Error) => {
          throw new Error(`${where(s.no)}: ${e.message}`);
        });
        break;
    }
  }
  if (!wire.closed && !(await wire.quiet(5))) {
    throw new Error(`${file}: replies left over at the end: ${wire.pending.map((f) => formatFcall(f)).join('; ')}`);
  }
}

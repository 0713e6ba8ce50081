/**
 * The text form of 9P messages, after Plan 9's fcall printing, that parses back:
 *
 *   Twalk tag 1 fid 1 newfid 2 wname [net tcp]
 *   Rwalk tag 1 wqid [(0000000000000002 0 d) (0000000000000003 0 d)]
 *   Twrite tag 3 fid 4 offset 0 data "hello\n"
 *   Rstat tag 5 stat {type 0 dev 0 qid (0000000000000001 0) mode 0644 ... name "x" ...}
 *
 * Numbers are decimal, or C-style 0x hex and 0 octal (mode, perm and flags print in octal).
 * Strings are bare words when they are plain, else JSON-quoted ("..."); 'rc quoting' parses
 * too. Data is a JSON string when it is valid UTF-8, else `hex:…`. A qid is
 * `(path version type)` with the path in hex and the type as letters (d a l m A t L h).
 * Used by the -D trace and by transcript tests, which may write `*` for any value.
 */
import { MSG_NAMES, MSG_TYPES, MsgType } from './constants.js';
import { Errno, NinepError } from './errors.js';
import type { Dir, Fcall, Qid } from './fcall.js';

type Kind = 'num' | 'oct' | 'hex' | 'big' | 'str' | 'data' | 'qid' | 'qids' | 'strs' | 'stat';
type Field = readonly [name: string, kind: Kind];

const F = (spec: string): Field[] =>
  spec.split(' ').filter(Boolean).map((p) => {
    const [name, kind] = p.split(':');
    return [name!, (kind ?? 'num') as Kind] as const;
  });

/** Field names and kinds of every message, in wire order. */
const FIELDS: Record<number, Field[]> = {
  [MsgType.Tversion]: F('msize version:str'),
  [MsgType.Rversion]: F('msize version:str'),
  [MsgType.Tauth]: F('afid uname:str aname:str nUname'),
  [MsgType.Rauth]: F('aqid:qid'),
  [MsgType.Tattach]: F('fid afid uname:str aname:str nUname'),
  [MsgType.Rattach]: F('qid:qid'),
  [MsgType.Rerror]: F('ename:str errno'),
  [MsgType.Rlerror]: F('ecode'),
  [MsgType.Tflush]: F('oldtag'),
  [MsgType.Rflush]: [],
  [MsgType.Twalk]: F('fid newfid wname:strs'),
  [MsgType.Rwalk]: F('wqid:qids'),
  [MsgType.Topen]: F('fid mode:oct'),
  [MsgType.Ropen]: F('qid:qid iounit'),
  [MsgType.Tcreate]: F('fid name:str perm:oct mode:oct extension:str'),
  [MsgType.Rcreate]: F('qid:qid iounit'),
  [MsgType.Tread]: F('fid offset count'),
  [MsgType.Rread]: F('data:data'),
  [MsgType.Twrite]: F('fid offset data:data'),
  [MsgType.Rwrite]: F('count'),
  [MsgType.Tclunk]: F('fid'),
  [MsgType.Rclunk]: [],
  [MsgType.Tremove]: F('fid'),
  [MsgType.Rremove]: [],
  [MsgType.Tstat]: F('fid'),
  [MsgType.Rstat]: F('stat:stat'),
  [MsgType.Twstat]: F('fid stat:stat'),
  [MsgType.Rwstat]: [],
  [MsgType.Tstatfs]: F('fid'),
  [MsgType.Rstatfs]: F('fsType:hex bsize blocks bfree bavail files ffree fsid:big namelen'),
  [MsgType.Tlopen]: F('fid flags:oct'),
  [MsgType.Rlopen]: F('qid:qid iounit'),
  [MsgType.Tlcreate]: F('fid name:str flags:oct mode:oct gid'),
  [MsgType.Rlcreate]: F('qid:qid iounit'),
  [MsgType.Tsymlink]: F('fid name:str symtgt:str gid'),
  [MsgType.Rsymlink]: F('qid:qid'),
  [MsgType.Tmknod]: F('dfid name:str mode:oct major minor gid'),
  [MsgType.Rmknod]: F('qid:qid'),
  [MsgType.Trename]: F('fid dfid name:str'),
  [MsgType.Rrename]: [],
  [MsgType.Treadlink]: F('fid'),
  [MsgType.Rreadlink]: F('target:str'),
  [MsgType.Tgetattr]: F('fid requestMask:hex'),
  [MsgType.Rgetattr]: F(
    'valid:hex qid:qid mode:oct uid gid nlink rdev size blksize blocks atimeSec atimeNsec mtimeSec mtimeNsec ' +
      'ctimeSec ctimeNsec btimeSec btimeNsec gen dataVersion',
  ),
  [MsgType.Tsetattr]: F('fid valid:hex mode:oct uid gid size atimeSec atimeNsec mtimeSec mtimeNsec'),
  [MsgType.Rsetattr]: [],
  [MsgType.Txattrwalk]: F('fid newfid name:str'),
  [MsgType.Rxattrwalk]: F('size'),
  [MsgType.Txattrcreate]: F('fid name:str attrSize flags'),
  [MsgType.Rxattrcreate]: [],
  [MsgType.Treaddir]: F('fid offset count cookie:big'),
  [MsgType.Rreaddir]: F('data:data'),
  [MsgType.Tfsync]: F('fid datasync'),
  [MsgType.Rfsync]: [],
  [MsgType.Tlock]: F('fid lockType flags start length procId clientId:str'),
  [MsgType.Rlock]: F('status'),
  [MsgType.Tgetlock]: F('fid lockType start length procId clientId:str'),
  [MsgType.Rgetlock]: F('lockType start length procId clientId:str'),
  [MsgType.Tlink]: F('dfid fid name:str'),
  [MsgType.Rlink]: [],
  [MsgType.Tmkdir]: F('dfid name:str mode:oct gid'),
  [MsgType.Rmkdir]: F('qid:qid'),
  [MsgType.Trenameat]: F('olddirfid oldname:str newdirfid newname:str'),
  [MsgType.Rrenameat]: [],
  [MsgType.Tunlinkat]: F('dirfd name:str flags:hex'),
  [MsgType.Runlinkat]: [],
};

const DIR_FIELDS = F(
  'type dev qid:qid mode:oct atime mtime length name:str uid:str gid:str muid:str extension:str nUid nGid nMuid',
);

const QT_LETTERS: Array<[number, string]> = [
  [0x80, 'd'], [0x40, 'a'], [0x20, 'l'], [0x10, 'm'], [0x08, 'A'], [0x04, 't'], [0x02, 'L'], [0x01, 'h'],
];

export interface FormatOptions {
  /** Show at most this many payload bytes (traces); the result then no longer parses back. */
  maxData?: number;
}

/** The text form of a message. */
export function formatFcall(f: Fcall, opts: FormatOptions = {}): string {
  const name = MSG_NAMES[f.type] ?? `type${f.type}`;
  const parts = [name, 'tag', String(f.tag)];
  formatFields(parts, f as unknown as Record<string, unknown>, FIELDS[f.type] ?? [], opts);
  return parts.join(' ');
}

function formatFields(parts: string[], obj: Record<string, unknown>, fields: readonly Field[], opts: FormatOptions): void {
  for (const [name, kind] of fields) {
    const v = obj[name];
    if (v === undefined) continue;
    parts.push(name, formatValue(kind, v, opts));
  }
}

function formatValue(kind: Kind, v: unknown, opts: FormatOptions): string {
  switch (kind) {
    case 'num': return String(v);
    case 'oct': return (v as number) === 0 ? '0' : '0' + (v as number).toString(8);
    case 'hex': return '0x' + (v as number).toString(16);
    case 'big': return (v as bigint).toString();
    case 'str': return quote(v as string);
    case 'strs': return '[' + (v as string[]).map(quote).join(' ') + ']';
    case 'qid': return formatQid(v as Qid);
    case 'qids': return '[' + (v as Qid[]).map(formatQid).join(' ') + ']';
    case 'data': return formatData(v as Buffer, opts);
    case 'stat': {
      const parts: string[] = [];
      formatFields(parts, v as unknown as Record<string, unknown>, DIR_FIELDS, opts);
      return '{' + parts.join(' ') + '}';
    }
  }
}

/** `(path version type)`, path as 16 hex digits, type as letters (omitted for a plain file). */
export function formatQid(q: Qid): string {
  let t = '';
  for (const [bit, ch] of QT_LETTERS) if (q.type & bit) t += ch;
  const path = q.path.toString(16).padStart(16, '0');
  return t ? `(${path} ${q.version} ${t})` : `(${path} ${q.version})`;
}

const PLAIN = /^[A-Za-z0-9._\-/!:@+=,~#%^&]+$/;

function quote(s: string): string {
  return PLAIN.test(s) && !s.startsWith('hex:') ? s : JSON.stringify(s);
}

function formatData(b: Buffer, opts: FormatOptions): string {
  const cut = opts.maxData !== undefined && b.length > opts.maxData;
  const shown = cut ? b.subarray(0, opts.maxData) : b;
  const s = shown.toString('utf8');
  const body = Buffer.from(s, 'utf8').equals(shown) ? JSON.stringify(s) : 'hex:' + shown.toString('hex');
  return cut ? `${body}...(${b.length} bytes)` : body;
}

// ---- parsing -------------------------------------------------------------------------

/** A token of the text form: a word, a quoted string, or one bracket. */
interface Tok {
  t: 'word' | 'str' | '[' | ']' | '(' | ')' | '{' | '}';
  v: string;
}

function bad(why: string): NinepError {
  return new NinepError(`bad 9P text: ${why}`, Errno.EINVAL);
}

/** Splits a line of the text form into tokens. */
export function tokenize(line: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { i++; continue; }
    if ('[](){}'.includes(c)) { out.push({ t: c as Tok['t'], v: c }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (j >= line.length) throw bad(`unterminated string at ${i}`);
      out.push({ t: 'str', v: JSON.parse(line.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= line.length) throw bad(`unterminated string at ${i}`);
        if (line[j] === "'") {
          if (line[j + 1] === "'") { s += "'"; j += 2; continue; }
          break;
        }
        s += line[j++];
      }
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < line.length && !' \t\r\n[](){}'.includes(line[j]!)) j++;
    out.push({ t: 'word', v: line.slice(i, j) });
    i = j;
  }
  return out;
}

class TokStream {
  i = 0;
  constructor(readonly toks: Tok[]) {}
  peek(): Tok | undefined { return this.toks[this.i]; }
  next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw bad('unexpected end of line');
    return t;
  }
  expect(t: Tok['t']): void {
    const got = this.next();
    if (got.t !== t) throw bad(`expected ${t}, got ${got.v}`);
  }
}

function parseNum(tok: Tok): number {
  const s = tok.v;
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) n = parseInt(s.slice(1), 8);
  else if (/^\d+$/.test(s)) n = Number(s);
  else throw bad(`not a number: ${s}`);
  return n;
}

function parseQid(ts: TokStream): Qid {
  ts.expect('(');
  const path = BigInt('0x' + ts.next().v);
  const version = parseNum(ts.next());
  let type = 0;
  if (ts.peek()?.t === 'word') {
    for (const ch of ts.next().v) {
      const hit = QT_LETTERS.find(([, l]) => l === ch);
      if (!hit) throw bad(`unknown qid type letter ${ch}`);
      type |= hit[0];
    }
  }
  ts.expect(')');
  return { type, version, path };
}

function parseString(tok: Tok): string {
  if (tok.t !== 'str' && tok.t !== 'word') throw bad(`expected a string, got ${tok.v}`);
  return tok.v;
}

function parseValue(kind: Kind, ts: TokStream): unknown {
  switch (kind) {
    case 'num': case 'oct': case 'hex': return parseNum(ts.next());
    case 'big': return BigInt(ts.next().v);
    case 'str': return parseString(ts.next());
    case 'strs': {
      ts.expect('[');
      const out: string[] = [];
      while (ts.peek()?.t !== ']') out.push(parseString(ts.next()));
      ts.expect(']');
      return out;
    }
    case 'qid': return parseQid(ts);
    case 'qids': {
      ts.expect('[');
      const out: Qid[] = [];
      while (ts.peek()?.t !== ']') out.push(parseQid(ts));
      ts.expect(']');
      return out;
    }
    case 'data': {
      const t = ts.next();
      if (t.t === 'word' && t.v.startsWith('hex:')) return Buffer.from(t.v.slice(4), 'hex');
      return Buffer.from(parseString(t), 'utf8');
    }
    case 'stat': {
      ts.expect('{');
      const d = parseFields(ts, DIR_FIELDS, '}');
      ts.expect('}');
      return d as unknown as Dir;
    }
  }
}

function parseFields(ts: TokStream, fields: readonly Field[], end?: Tok['t']): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  while (ts.peek() && ts.peek()!.t !== end) {
    const name = ts.next();
    const field = fields.find(([n]) => n === name.v);
    if (!field) throw bad(`unknown field ${name.v}`);
    obj[field[0]] = parseValue(field[1], ts);
  }
  return obj;
}

/** Parses the text form back into a message. Throws NinepError (EINVAL) naming what is wrong. */
export function parseFcall(line: string): Fcall {
  const ts = new TokStream(tokenize(line));
  const name = ts.next().v;
  const type = MSG_TYPES[name];
  if (type === undefined || !FIELDS[type]) throw bad(`unknown message ${name}`);
  const tagWord = ts.next();
  if (tagWord.v !== 'tag') throw bad(`expected tag after ${name}`);
  const tag = parseNum(ts.next());
  const fields = FIELDS[type]!;
  const obj = parseFields(ts, fields);
  for (const [n, kind] of fields) {
    if (obj[n] !== undefined) continue;
    if (OPTIONAL.has(n)) continue;
    if (kind === 'data') obj[n] = Buffer.alloc(0);
    else throw bad(`${name} lacks ${n}`);
  }
  return { type, tag, ...obj } as Fcall;
}

/** Fields that exist only in some dialects and may be left out. */
const OPTIONAL = new Set(['nUname', 'errno', 'extension', 'cookie']);

// ---- matching, for transcripts -------------------------------------------------------

/** Skips one value (a token or a bracketed group) and returns the index after it. */
function skipValue(toks: Tok[], i: number): number {
  const open = toks[i]?.t;
  const close = open === '[' ? ']' : open === '(' ? ')' : open === '{' ? '}' : undefined;
  if (!close) return i + 1;
  let depth = 0;
  for (let j = i; j < toks.length; j++) {
    if (toks[j]!.t === open) depth++;
    else if (toks[j]!.t === close && --depth === 0) return j + 1;
  }
  return toks.length;
}

/**
 * True when `actual` (text form) matches `pattern`: token by token, where a bare `*` in the
 * pattern matches any one value (a word, a string or a whole bracketed group) and a pattern
 * ending in `...` matches any remaining fields.
 */
export function matchText(pattern: string, actual: string): boolean {
  const p = tokenize(pattern);
  const a = tokenize(actual);
  let i = 0;
  let j = 0;
  while (i < p.length) {
    const pt = p[i]!;
    if (pt.t === 'word' && pt.v === '...' && i === p.length - 1) return true;
    if (j >= a.length) return false;
    if (pt.t === 'word' && pt.v === '*') {
      i++;
      j = skipValue(a, j);
      continue;
    }
    const at = a[j]!;
    if (pt.t !== at.t && !(isStringy(pt) && isStringy(at))) return false;
    if (pt.v !== at.v) return false;
    i++;
    j++;
  }
  return j === a.length;
}

function isStringy(t: Tok): boolean {
  return t.t === 'word' || t.t === 'str';
}

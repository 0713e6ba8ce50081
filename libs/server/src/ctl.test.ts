import { Errno, NinepError } from '@prose/protocol';
import { lookupCmd, parseCmd, runCmd, type Cmdtab } from './ctl.js';

function err(f: () => unknown): NinepError {
  try {
    f();
  } catch (e) {
    return e as NinepError;
  }
  throw new Error('did not throw');
}

describe('control messages (parsecmd/lookupcmd)', () => {
  test('parseCmd splits on blanks, honours rc-style quotes, ignores the trailing newline', () => {
    expect(parseCmd('connect 127.0.0.1!80\n')).toEqual(['connect', '127.0.0.1!80']);
    expect(parseCmd(Buffer.from('  a\tb  c ')).slice()).toEqual(['a', 'b', 'c']);
    expect(parseCmd("say 'hello world' 'it''s'")).toEqual(['say', 'hello world', "it's"]);
    expect(parseCmd("x''y a'b c'd")).toEqual(['xy', 'ab cd']);
    expect(parseCmd("''")).toEqual(['']);
    expect(parseCmd('')).toEqual([]);
    expect(err(() => parseCmd("say 'oops")).message).toBe('bad ctl message: unterminated quote: "say \'oops"');
  });

  const table: Cmdtab<string[]> = [
    { name: 'connect', args: [1, 2], run: (a, out) => void out.push(`connect ${a.join(',')}`) },
    { name: 'hangup', args: 0, run: (_a, out) => void out.push('hangup') },
    { name: 'keepalive', run: (a, out) => void out.push(`keepalive ${a.length}`) },
  ];

  test('lookupCmd checks the argument count and names the bad message', () => {
    expect(lookupCmd(table, ['hangup']).name).toBe('hangup');
    expect(lookupCmd(table, ['keepalive', '1', '2', '3']).name).toBe('keepalive');
    const unknown = err(() => lookupCmd(table, ['frob', '1']));
    expect(unknown.message).toBe('bad ctl message: unknown command: "frob 1"');
    expect(unknown.errno).toBe(Errno.EINVAL);
    expect(err(() => lookupCmd(table, ['hangup', 'now'])).message).toBe('bad ctl message: hangup wants 0 arguments: "hangup now"');
    expect(err(() => lookupCmd(table, ['connect', 'a', 'b', 'c'])).message).toBe('bad ctl message: connect wants 1 to 2 arguments: "connect a b c"');
    expect(err(() => lookupCmd(table, [])).message).toBe('bad ctl message: empty message: ""');
  });

  test('runCmd parses and dispatches; "*" catches the rest', async () => {
    const out: string[] = [];
    runCmd(table, 'connect a b', out);
    runCmd(table, Buffer.from('hangup\n'), out);
    const all: Cmdtab<string[]> = [...table, { name: '*', run: (_a, o, words) => void o.push(`other ${words.join(' ')}`) }];
    await runCmd(all, 'ttl 5', out);
    expect(out).toEqual(['connect a,b', 'hangup', 'other ttl 5']);
  });
});

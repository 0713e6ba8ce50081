import { Errno, NinepError } from '@prose/protocol';
import { ConsInput } from './input.js';

const str = async (v: Buffer | Promise<Buffer>) => (await v).toString();

describe('ConsInput, cooked', () => {
  test('a read returns at most one line, and waits for the newline', async () => {
    const q = new ConsInput();
    q.inject('one\ntwo\nthr');
    expect(await str(q.read(100))).toBe('one\n');
    expect(await str(q.read(100))).toBe('two\n');
    const third = q.read(100);
    expect(q.waiting).toBe(1);
    q.inject('ee\n');
    expect(await str(third)).toBe('three\n');
  });

  test('a long line is split by the count; the rest stays for the next read', async () => {
    const q = new ConsInput();
    q.inject('abcdefgh\nz\n');
    expect(await str(q.read(3))).toBe('abc');
    expect(await str(q.read(100))).toBe('defgh\n');
    expect(await str(q.read(100))).toBe('z\n');
  });

  test('^H erases a character (a whole UTF-8 one), ^U kills the line, ^D ends it; ^D alone is end of file', async () => {
    const q = new ConsInput();
    q.inject('helo\bp\n');
    q.inject('caf\u00e9\b\be\n');
    q.inject('junk\x15ok\n');
    q.inject('part\x04');
    q.inject('\x04');
    q.inject('after\n');
    expect(await str(q.read(100))).toBe('help\n');
    expect(await str(q.read(100))).toBe('cae\n');
    expect(await str(q.read(100))).toBe('ok\n');
    expect(await str(q.read(100))).toBe('part');
    expect((await q.read(100)).length).toBe(0);
    expect(await str(q.read(100))).toBe('after\n');
  });

  test('each line wakes one waiting reader', async () => {
    const q = new ConsInput();
    const a = q.read(100);
    const b = q.read(100);
    q.inject('1\n2\n');
    expect([await str(a), await str(b)]).toEqual(['1\n', '2\n']);
  });
});

describe('ConsInput, raw', () => {
  test('bytes are readable at once, untouched, gathered up to the count', async () => {
    const q = new ConsInput();
    q.setRaw(true);
    q.inject('ab');
    q.inject('c\bd\x04\n');
    expect(await str(q.read(3))).toBe('abc');
    expect(await str(q.read(100))).toBe('\bd\x04\n');
    const w = q.read(100);
    q.inject('x');
    expect(await str(w)).toBe('x');
  });

  test('going raw makes a half-typed line readable; back to cooked, lines again', async () => {
    const q = new ConsInput();
    q.inject('half');
    const r = q.read(100);
    q.setRaw(true);
    expect(await str(r)).toBe('half');
    q.setRaw(false);
    q.inject('x\by\n');
    expect(await str(q.read(100))).toBe('y\n');
  });
});

describe('ConsInput, limits and end', () => {
  test('input past the limit is refused whole (EAGAIN)', () => {
    const q = new ConsInput({ limit: 8 });
    q.inject('1234567');
    let e: NinepError | undefined;
    try {
      q.inject('89');
    } catch (x) {
      e = x as NinepError;
    }
    expect(e?.errno).toBe(Errno.EAGAIN);
    expect(e?.message).toBe('console input full (8 bytes)');
    expect(q.length).toBe(7);
  });

  test('an aborted read leaves; close gives waiting readers end of file and refuses input', async () => {
    const q = new ConsInput();
    const ac = new AbortController();
    const gone = q.read(10, ac.signal);
    const eof = q.read(10);
    ac.abort(new NinepError('interrupted', Errno.EINTR));
    await expect(gone).rejects.toMatchObject({ errno: Errno.EINTR });
    expect(q.waiting).toBe(1);
    q.close();
    expect((await eof).length).toBe(0);
    expect(() => q.inject('x')).toThrow(/console hung up/);
  });
});

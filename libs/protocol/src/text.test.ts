import { MsgType } from './constants.js';
import { formatFcall, matchText, parseFcall } from './text.js';
import { VECTORS } from './test-vectors.js';

describe('text form', () => {
  test.each(VECTORS.map((v) => [v.name, v] as const))('%s parses back to the same message', (_n, v) => {
    const text = formatFcall(v.fcall);
    expect(parseFcall(text)).toEqual(v.fcall);
  });

  test('reads like Plan 9 fcall printing', () => {
    expect(formatFcall({ type: MsgType.Twalk, tag: 1, fid: 1, newfid: 2, wname: ['net', 'tcp'] }))
      .toBe('Twalk tag 1 fid 1 newfid 2 wname [net tcp]');
    expect(formatFcall({ type: MsgType.Rwalk, tag: 1, wqid: [{ type: 0x80, version: 0, path: 2n }] }))
      .toBe('Rwalk tag 1 wqid [(0000000000000002 0 d)]');
    expect(formatFcall({ type: MsgType.Twrite, tag: 3, fid: 4, offset: 0, data: Buffer.from('hi\n') }))
      .toBe('Twrite tag 3 fid 4 offset 0 data "hi\\n"');
    expect(formatFcall({ type: MsgType.Rread, tag: 3, data: Buffer.from([0xff, 0]) })).toBe('Rread tag 3 data hex:ff00');
    expect(formatFcall({ type: MsgType.Topen, tag: 2, fid: 1, mode: 0x10 })).toBe('Topen tag 2 fid 1 mode 020');
    expect(formatFcall({ type: MsgType.Rerror, tag: 2, ename: 'file not found' })).toBe('Rerror tag 2 ename "file not found"');
  });

  test('traces cut long payloads', () => {
    const t = formatFcall({ type: MsgType.Rread, tag: 1, data: Buffer.alloc(100, 0x61) }, { maxData: 4 });
    expect(t).toBe('Rread tag 1 data "aaaa"...(100 bytes)');
  });

  test('accepts rc quoting, hex and octal numbers', () => {
    expect(parseFcall("Tcreate tag 1 fid 0x10 name 'it''s' perm 0644 mode 1")).toEqual({
      type: MsgType.Tcreate, tag: 1, fid: 16, name: "it's", perm: 0o644, mode: 1,
    });
    expect(parseFcall('Rread tag 1')).toEqual({ type: MsgType.Rread, tag: 1, data: Buffer.alloc(0) });
  });

  test('rejects what it cannot read, naming it', () => {
    expect(() => parseFcall('Tfoo tag 1')).toThrow(/unknown message Tfoo/);
    expect(() => parseFcall('Tclunk tag 1 fod 2')).toThrow(/unknown field fod/);
    expect(() => parseFcall('Tclunk tag 1')).toThrow(/Tclunk lacks fid/);
    expect(() => parseFcall('Tclunk tag x fid 1')).toThrow(/not a number: x/);
    expect(() => parseFcall('Rerror tag 1 ename "open')).toThrow(/unterminated string/);
  });
});

describe('matchText', () => {
  const actual = 'Rwalk tag 1 wqid [(0000000000000002 0 d) (0000000000000003 4)]';
  test('exact and wildcard matches', () => {
    expect(matchText(actual, actual)).toBe(true);
    expect(matchText('Rwalk tag 1 wqid *', actual)).toBe(true);
    expect(matchText('Rwalk tag 1 wqid [* (0000000000000003 *)]', actual)).toBe(true);
    expect(matchText('Rwalk tag * ...', actual)).toBe(true);
  });
  test('mismatches', () => {
    expect(matchText('Rwalk tag 2 wqid *', actual)).toBe(false);
    expect(matchText('Rwalk tag 1 wqid [*]', actual)).toBe(false);
    expect(matchText('Rwalk tag 1', actual)).toBe(false);
    expect(matchText('Rerror tag 1 ename "file not found"', 'Rerror tag 1 ename "file not found" errno 2')).toBe(false);
  });
  test('a bare word matches the same quoted string', () => {
    expect(matchText('Rerror tag 1 ename "unknown fid"', 'Rerror tag 1 ename "unknown fid"')).toBe(true);
    expect(matchText('Rversion tag 65535 msize 8192 version "9P2000"', 'Rversion tag 65535 msize 8192 version 9P2000')).toBe(true);
  });
});

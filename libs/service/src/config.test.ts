import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { ConfigError, loadConfig, usage, type ConfigSpec } from './config.js';

const spec: ConfigSpec = {
  listen: { type: 'list', env: 'T_LISTEN', default: ['tcp!127.0.0.1!0'], help: 'addresses' },
  port: { type: 'number', env: 'T_PORT', default: 564, help: 'a port' },
  name: { type: 'string', help: 'a name' },
  debug: { type: 'boolean', short: 'D', default: false, help: 'trace' },
};

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'prose-config-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults, then file, then env, then flags', () => {
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 1, name: 'file', listen: ['unix!/a'] }));
    expect(loadConfig(spec, [], {})).toEqual({ listen: ['tcp!127.0.0.1!0'], port: 564, name: undefined, debug: false });
    expect(loadConfig(spec, ['--config', file], {})).toMatchObject({ port: 1, name: 'file', listen: ['unix!/a'] });
    expect(loadConfig(spec, ['--config', file], { T_PORT: '2', T_LISTEN: 'tcp!h!1, unix!/b' })).toMatchObject({ port: 2, listen: ['tcp!h!1', 'unix!/b'] });
    expect(loadConfig(spec, [`--config=${file}`, '--port=3', '--listen', 'x!1', '--listen', 'unix!/c', '-D'], { T_PORT: '2' }))
      .toMatchObject({ port: 3, listen: ['x!1', 'unix!/c'], debug: true, name: 'file' });
  });

  test.each([
    [['--bogus'], /unknown flag --bogus/],
    [['-Q'], /unknown flag -Q/],
    [['--port'], /--port wants a value/],
    [['--port', 'x'], /port \(--port\): want a number, got "x"/],
    [['stray'], /unexpected argument "stray"/],
    [['--debug=maybe'], /want true or false/],
  ])('%j is a clear ConfigError', (argv, msg) => {
    expect(() => loadConfig(spec, argv as string[], {})).toThrow(ConfigError);
    expect(() => loadConfig(spec, argv as string[], {})).toThrow(msg);
  });

  test('a bad config file names the file and the problem', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => loadConfig(spec, ['--config', bad], {})).toThrow(new RegExp(`config file ${bad}: `));
    writeFileSync(bad, JSON.stringify({ colour: 'red' }));
    expect(() => loadConfig(spec, ['--config', bad], {})).toThrow(/unknown option "colour"/);
    writeFileSync(bad, JSON.stringify({ port: 'ten' }));
    expect(() => loadConfig(spec, ['--config', bad], {})).toThrow(/port .*want a number/);
    expect(() => loadConfig(spec, ['--config', path.join(dir, 'missing.json')], {})).toThrow(/ENOENT/);
  });

  test('env with a wrong type names the variable', () => {
    expect(() => loadConfig(spec, [], { T_PORT: 'many' })).toThrow(/\$T_PORT/);
  });

  test('usage lists every option with its env and default', () => {
    const u = usage('svc', spec);
    expect(u).toContain('--listen <list>');
    expect(u).toContain('[$T_PORT] (default 564)');
    expect(u).toContain('-D, --debug');
  });
});

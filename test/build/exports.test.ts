/**
 * Every package's index (as built into dist/, what the mesh runs) exports its values as plain
 * data properties, so its exports object keeps V8's fast properties. A getter among them (what
 * `export { x } from` compiles to) puts the object in dictionary mode, and every call through
 * the package (`protocol_1.get32(...)` in the compiled code) then pays a generic property load
 * and a getter call: 0.3 µs of a 5.5 µs round trip over shared memory. The index files write
 * their values as `export import x = fromFile.x` for that reason.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const indexes = ['libs', 'services']
  .flatMap((top) => fs.readdirSync(path.join(root, top)).map((p) => path.join(root, top, p, 'dist', 'index.js')))
  .filter((f) => fs.existsSync(f));

test('the built packages are there to check', () => {
  expect(indexes.length).toBeGreaterThanOrEqual(10);
});

test.each(indexes.map((f) => [path.relative(root, f), f]))('%s: data properties only, fast properties', (_name, file) => {
  const script = `
    const e = require(${JSON.stringify(file)});
    const getters = Object.keys(e).filter((k) => Object.getOwnPropertyDescriptor(e, k).get !== undefined);
    console.log(JSON.stringify({ keys: Object.keys(e).length, getters, fast: %HasFastProperties(e) }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' })) as { keys: number; getters: string[]; fast: boolean };
  expect(out.keys).toBeGreaterThan(0);
  expect(out.getters).toEqual([]);
  expect(out.fast).toBe(true);
});

/**
 * runClientProcess: a measurement's client in a child process (real `node` children, scripts
 * written to a temp directory).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { runClientProcess } from './client-process.js';

let dir: string;
const script = async (name: string, body: string) => {
  const file = path.join(dir, name);
  await fsp.writeFile(file, body);
  return file;
};

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'prose-client-process-'));
});
afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

test('the plan goes in as JSON, stderr lines go to the log, the last stdout line is the result', async () => {
  const s = await script('ok.js', `
    const plan = JSON.parse(process.argv[3]);
    process.stderr.write('working on ' + plan.n + '\\n');
    console.log('not the result');
    console.log(JSON.stringify({ flag: process.argv[2], twice: plan.n * 2, pid: process.pid }));`);
  const log: string[] = [];
  const r = await runClientProcess<{ flag: string; twice: number; pid: number }>(undefined, s, '--go', { n: 21 }, (l) => log.push(l));
  expect(r.flag).toBe('--go');
  expect(r.twice).toBe(42);
  expect(r.pid).not.toBe(process.pid);
  expect(log).toEqual(['working on 21']);
});

test('a client that fails is an error that says how it ended and what it said last', async () => {
  const s = await script('fail.js', `process.stderr.write('cannot reach the server\\n'); process.exit(3);`);
  await expect(runClientProcess(undefined, s, '--go', {}, () => {})).rejects.toThrow(/--go \(exit 3\) gave no result: cannot reach the server/);
});

test('a clean exit without a result line is an error too', async () => {
  const s = await script('silent.js', `console.log('no json here');`);
  await expect(runClientProcess(undefined, s, '--go', {}, () => {})).rejects.toThrow(/exit 0\) gave no result/);
});

test('a client that outlives its time is killed and the run fails', async () => {
  const s = await script('slow.js', `setTimeout(() => console.log('{}'), 60000);`);
  const t0 = Date.now();
  await expect(runClientProcess(undefined, s, '--go', {}, () => {}, 300)).rejects.toThrow(/killed after 300 ms/);
  expect(Date.now() - t0).toBeLessThan(10000);
});

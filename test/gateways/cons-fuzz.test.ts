/**
 * A bounded fuzz of the cons gateway as a child process: random walks, opens, reads and ctl
 * writes from 9P2000 and 9P2000.L sessions. Afterwards the process is alive, logged no internal
 * error, answers grpc health, and serves a console end to end. PROSE_FUZZ_SEED repeats a run;
 * PROSE_FUZZ_OPS sets its length (default 400 per session).
 */
import { TIME_LEN } from '@prose/clock';
import type { Client } from '@prose/client';
import { startServiceProc, type ServiceProc } from '../support/child';
import { connect, fuzzSurvives, openPath, readText, writeText, type FuzzPlan } from './cons-time-helpers';

jest.setTimeout(60000);

const SEED = Number(process.env.PROSE_FUZZ_SEED ?? Date.now() % 1e9);
const OPS = Number(process.env.PROSE_FUZZ_OPS ?? 400);

const plan: FuzzPlan = {
  names: ['clone', 'status', 'sysname', 'time', 'bintime', 'random', 'null', 'zero', '0', '1', '2', 'ctl', 'cons', 'consctl', 'user', 'operator', 'in', 'out', '..'],
  paths: ['clone', '0/ctl', '0/cons', '0/consctl', '0/time', '0/bintime', '0/sysname', '0/operator/in', '0/operator/out', '1/ctl', '1/cons', 'status'],
  messages: ['hangup', 'rawon', 'rawoff', 'hangup now', '1000000000', 'n', 'd', 'f', 'x\n', 'line\n', '\x04', '\x08\x15', "'unterminated", ''],
};

let svc: ServiceProc;
const clients: Client[] = [];

beforeAll(async () => {
  svc = await startServiceProc('cons', [
    '--listen', 'tcp!127.0.0.1!0', '--drain-ms', '300', '--linger-ms', '20', '--max-consoles', '8', '--log-size', '1024', '--input-size', '256',
  ]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await svc?.stop();
});

test(`random ctl writes, walks and reads do not crash the service (seed ${SEED})`, async () => {
  const results = await fuzzSurvives(svc, plan, ['9P2000', '9P2000.L', '9P2000'], SEED, OPS, clients);
  console.log(`cons fuzz seed ${SEED}: ${JSON.stringify(results)}`);
  const { client, root } = await connect(svc.addr, '9P2000.L');
  clients.push(client);
  expect((await root.readFile('time')).length).toBe(TIME_LEN);
  const ctl = await openPath(root, 'clone', 2);
  const n = await readText(ctl);
  const cons = await openPath(root, `${n}/cons`, 0);
  await writeText(await openPath(root, `${n}/operator/in`, 1), 'still here\n');
  expect(await readText(cons)).toBe('still here\n');
});

/**
 * A bounded fuzz of the time gateway as a child process: random walks, opens, reads and timer
 * ctl writes from 9P2000 and 9P2000.L sessions. Afterwards the process is alive, logged no
 * internal error, answers grpc health, and a timer still fires. PROSE_FUZZ_SEED repeats a run;
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
  names: ['time', 'bintime', 'nsec', 'monotonic', 'wall', 'timer', 'clone', '0', '1', '2', 'ctl', 'wait', 'status', '..'],
  paths: ['timer/clone', 'timer/clone', 'timer/clone', 'timer/0/ctl', 'timer/0/wait', 'timer/0/status', 'timer/1/ctl', 'timer/1/wait', 'time', 'bintime', 'monotonic'],
  messages: ['in 1ms', 'in 5ms', 'in 0', 'every 1ms', 'every 2ms', 'at 0', 'at 1', 'wall 1', 'wall 99999999999999999999', 'cancel', 'in', 'every 0', 'in 1h', '12', ''],
};

let svc: ServiceProc;
const clients: Client[] = [];

beforeAll(async () => {
  svc = await startServiceProc('time', ['--listen', 'tcp!127.0.0.1!0', '--drain-ms', '300', '--max-timers', '16']);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await svc?.stop();
});

test(`random ctl writes, walks and reads do not crash the service (seed ${SEED})`, async () => {
  const results = await fuzzSurvives(svc, plan, ['9P2000', '9P2000.L', '9P2000.L'], SEED, OPS, clients);
  console.log(`time fuzz seed ${SEED}: ${JSON.stringify(results)}`);
  const { client, root } = await connect(svc.addr, '9P2000');
  clients.push(client);
  expect((await root.readFile('time')).length).toBe(TIME_LEN);
  const ctl = await openPath(root, 'timer/clone', 2);
  const wait = await openPath(root, `timer/${await readText(ctl)}/wait`, 0);
  await writeText(ctl, 'in 2ms');
  expect((await readText(wait)).length).toBe(78);
});

/**
 * Real nats-server processes for tests: one node, or a 3-node JetStream cluster, on free
 * loopback ports with temporary store directories. `stop()` kills every node and removes the
 * directories; call it in afterAll, it is safe to call twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports.js';

export const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';

/** True when the nats-server binary is installed. */
export function haveNatsServer(): boolean {
  return fs.existsSync(NATS_SERVER);
}

export interface NatsNode {
  name: string;
  port: number;
  clusterPort: number;
  url: string;
  proc: ChildProcess | undefined;
  conf: string;
  log(): string;
  /** SIGKILL; resolves when gone. */
  kill(): Promise<void>;
  /** Starts it again with the same config and store. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated. */
  servers: string;
  stop(): Promise<void>;
}

function waitPort(port: number, timeoutMs: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return reject(new Error(`nats-server exited: ${log()}`));
      const s = net.createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => {
        if (Date.now() > deadline) reject(new Error(`nats-server did not listen on ${port}: ${log()}`));
        else setTimeout(tryOnce, 50);
      });
    };
    tryOnce();
  });
}

function startNode(node: NatsNode, logs: string[]): Promise<void> {
  const proc = spawn(NATS_SERVER, ['-c', node.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  node.proc = proc;
  const i = logs.length;
  logs.push('');
  const add = (d: Buffer) => { logs[i] = (logs[i]! + d.toString()).slice(-20000); };
  proc.stdout!.on('data', add);
  proc.stderr!.on('data', add);
  return waitPort(node.port, 10000, proc, () => logs[i]!);
}

function killProc(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
  });
}

/**
 * Starts `n` nodes (1 or 3, say) with JetStream; with n > 1 they form cluster "prose" over
 * loopback routes. Resolves once every node accepts clients.
 */
export async function startNats(n = 1): Promise<NatsCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-nats-'));
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const cports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const logs: string[] = [];
  const nodes: NatsNode[] = ports.map((port, i) => {
    const name = `n${i + 1}`;
    const store = path.join(dir, name);
    const lines = [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${port}`,
      `jetstream { store_dir: "${store}", max_memory_store: 64MB, max_file_store: 256MB }`,
    ];
    if (n > 1) {
      const routes = cports.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
      lines.push(`cluster { name: prose, listen: 127.0.0.1:${cports[i]}, routes: [${routes}] }`);
    }
    const conf = path.join(dir, `${name}.conf`);
    fs.writeFileSync(conf, lines.join('\n') + '\n');
    const node: NatsNode = {
      name, port, clusterPort: cports[i]!, url: `nats://127.0.0.1:${port}`, proc: undefined, conf,
      log: () => logs.join('\n'),
      kill: () => killProc(node.proc),
      restart: () => startNode(node, logs),
    };
    return node;
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(nodes.map((nd) => killProc(nd.proc)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((nd) => startNode(nd, logs)));
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes, servers: nodes.map((nd) => nd.url).join(','), stop };
}

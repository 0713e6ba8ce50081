/**
 * What every service's main does, in one place: read the configuration, build the 9P tree,
 * listen on every configured address, answer grpc.health.v1, and on SIGTERM drain and exit 0.
 * A service's main.ts is then a few lines: `runMain(def)`.
 */
// Loading @prose/shm makes shm!/path listen addresses work (shared-memory channels).
import { loopIdleMetric, pollLoopBeforeBlocking } from '@prose/shm';
import { Server, consoleLogger, type Logger, type ServerOptions, type Srv } from '@prose/server';
import type { Listener } from '@prose/transport';
import { registerFromConfig, type ServiceRegistration } from '@prose/directory';
import { ConfigError, loadConfig, usage, type Config, type ConfigSpec } from './config.js';
import { startHealth, type HealthServer } from './health.js';

/** Services started in this process that turned on polling of its event loop (`busy-poll-us`). */
let pollingServices = 0;
/** Services started in this process that dropped its loop's idle-time metric (`loop-idle-metric` false). */
let idleMetricDroppers = 0;

/** Options every service has. */
export const COMMON_OPTIONS: ConfigSpec = {
  listen: { type: 'list', env: 'PROSE_LISTEN', default: ['tcp!127.0.0.1!0'], help: '9P listen addresses (tcp!host!port, unix!/path, shm!/path); repeatable' },
  health: { type: 'string', env: 'PROSE_HEALTH', default: 'tcp!127.0.0.1!0', help: 'gRPC health address (tcp!host!port), or "none"' },
  'max-msize': { type: 'number', env: 'PROSE_MAX_MSIZE', default: 8 * 1024 * 1024 + 24, help: 'largest msize offered' },
  'drain-ms': { type: 'number', env: 'PROSE_DRAIN_MS', default: 5000, help: 'how long SIGTERM waits for in-flight requests' },
  'busy-poll-us': { type: 'number', env: 'PROSE_BUSY_POLL_US', default: 50, help: 'before the event loop sleeps, poll for I/O for up to this many µs, a window that adapts to the traffic (0: never; never on one CPU): clients on other CPUs of a VM whose idle vCPUs halt are answered without waking it' },
  'loop-idle-metric': { type: 'boolean', env: 'PROSE_LOOP_IDLE_METRIC', default: false, help: 'keep the event loop\'s idle-time metric (performance.eventLoopUtilization()) even when the loop does not poll (busy-poll-us); without it the loop makes one system call fewer every time it sleeps' },
  debug: { type: 'boolean', short: 'D', env: 'PROSE_DEBUG', default: false, help: 'trace every 9P message to stderr' },
  registry: { type: 'string', env: 'PROSE_REGISTRY', default: '', help: 'register in the directory: NATS URLs (nats://host:port,...) or a registry\'s gRPC address (tcp!host!port); "" or "none": do not' },
  'registry-addr': { type: 'list', env: 'PROSE_REGISTRY_ADDR', default: [], help: 'addresses to advertise in the directory (default: the listening ones)' },
  'registry-lease-ms': { type: 'number', env: 'PROSE_REGISTRY_LEASE_MS', default: 6000, help: 'directory lease, refreshed every third of it' },
  'registry-replicas': { type: 'number', env: 'PROSE_REGISTRY_REPLICAS', default: 1, help: 'replicas of the directory bucket when it is created' },
  'registry-zone': { type: 'string', env: 'PROSE_ZONE', default: '', help: 'zone label in the directory record' },
  'registry-provider': { type: 'string', env: 'PROSE_PROVIDER', default: '', help: 'provider id in the directory (default host-pid-random)' },
};

/** What a service provides: its name, its own options, and how to build its file tree. */
export interface ServiceDef<A = unknown> {
  name: string;
  /** Options of this service, besides COMMON_OPTIONS. */
  options?: ConfigSpec;
  /**
   * Builds the served tree from the configuration. Throw ConfigError for bad values.
   * `close` (optional) runs after the 9P server has drained.
   */
  build(cfg: Config, ctx: { logger: Logger }): Promise<BuiltService<A>> | BuiltService<A>;
}

export interface BuiltService<A = unknown> {
  srv: Srv<A>;
  serverOptions?: ServerOptions;
  /**
   * Lend each Twrite's receive memory to `srv.write` instead of a fresh buffer per frame (see
   * ListenOptions.lendFrames): only for a Srv whose writes never keep `data` past the call.
   */
  lendFrames?: boolean;
  /**
   * Called when draining starts (SIGTERM), before in-flight requests are waited for: end waits
   * that would otherwise hold the drain for its whole timeout (blocking reads of consoles,
   * timers, listens) — typically with end of file.
   */
  drain?(): Promise<void> | void;
  close?(): Promise<void> | void;
}

export interface RunningService {
  readonly name: string;
  readonly config: Config;
  /** The bound 9P addresses (real ports). */
  readonly addrs: string[];
  readonly health: HealthServer | undefined;
  readonly server: Server;
  /** The directory registration, when `--registry` is set (deregistered first on stop). */
  readonly registration: ServiceRegistration | undefined;
  /** Drain and stop: health NOT_SERVING, no new connections, in-flight requests finish. */
  stop(): Promise<void>;
}

/**
 * Starts a service in this process. Prints `listening <addr>` for every 9P address and
 * `health <addr>` to stdout, which is how parents and tests learn the real ports.
 */
export async function startService<A>(def: ServiceDef<A>, argv: readonly string[], env: NodeJS.ProcessEnv = process.env, logger: Logger = consoleLogger): Promise<RunningService> {
  const spec = { ...COMMON_OPTIONS, ...def.options };
  const cfg = loadConfig(spec, argv, env);
  if (cfg.help) {
    process.stdout.write(usage(def.name, spec) + '\n');
    process.exit(0);
  }
  const listen = cfg.listen as string[];
  if (listen.length === 0) throw new ConfigError('listen: at least one address is needed');
  const busyPollUs = cfg['busy-poll-us'] as number;
  if (!Number.isInteger(busyPollUs) || busyPollUs < 0 || busyPollUs > 1_000_000) throw new ConfigError('busy-poll-us: want a whole number of µs from 0 to 1000000');
  const built = await def.build(cfg, { logger });
  const trace = cfg.debug ? (line: string) => process.stderr.write(`${def.name} ${line}\n`) : undefined;
  const server = new Server(built.srv as Srv<unknown>, {
    maxMsize: cfg['max-msize'] as number,
    logger,
    trace,
    ...built.serverOptions,
  });
  const listeners: Listener[] = [];
  let health: HealthServer | undefined;
  try {
    for (const a of listen) listeners.push(await server.listen(a, { lendFrames: built.lendFrames === true }));
    if (cfg.health !== 'none') health = await startHealth(cfg.health as string, `prose.${def.name}`);
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    await server.close({ timeoutMs: 0 });
    await built.close?.();
    throw e;
  }
  let registration: ServiceRegistration | undefined;
  try {
    registration = await registerFromConfig(cfg, {
      service: def.name,
      addrs: listeners.map((l) => l.addr),
      msize: cfg['max-msize'] as number,
      meta: health ? { health: health.addr } : {},
    }, { onError: (e) => logger.warn(`${def.name}: directory: ${(e as Error).message}`) });
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    await server.close({ timeoutMs: 0 });
    await built.close?.();
    await health?.close();
    throw e;
  }
  const polling = pollLoopBeforeBlocking(busyPollUs);
  if (polling.on) pollingServices++;
  else logger.debug(`${def.name}: event loop polling off: ${polling.why}`);
  const idleMetric = cfg['loop-idle-metric'] ? { kept: true } : loopIdleMetric(false);
  if (!idleMetric.kept) idleMetricDroppers++;
  else if (idleMetric.why) logger.debug(`${def.name}: event loop idle-time metric kept: ${idleMetric.why}`);
  for (const l of listeners) process.stdout.write(`listening ${l.addr}\n`);
  if (health) process.stdout.write(`health ${health.addr}\n`);
  if (registration) process.stdout.write(`registered ${def.name} ${registration.registration.record.provider}\n`);
  let stopping: Promise<void> | undefined;
  return {
    name: def.name,
    config: cfg,
    addrs: listeners.map((l) => l.addr),
    health,
    server,
    registration,
    stop: () =>
      (stopping ??= (async () => {
        health?.setServing(false);
        await registration?.stop().catch(() => {});
        const closed = server.close({ timeoutMs: cfg['drain-ms'] as number });
        await built.drain?.();
        await closed;
        await built.close?.();
        await health?.close();
        // The loop is the process's: it stops polling when no service in it wants it.
        if (polling.on && --pollingServices === 0) pollLoopBeforeBlocking(0);
        if (!idleMetric.kept && --idleMetricDroppers === 0) loopIdleMetric(true);
      })()),
  };
}

/**
 * A service's whole main: start, and on SIGTERM/SIGINT drain and exit 0. A bad configuration
 * prints `<name>: <reason>` and exits 2; any other start failure exits 1.
 */
export function runMain<A>(def: ServiceDef<A>): void {
  startService(def, process.argv.slice(2)).then(
    (svc) => {
      const stop = (sig: string) => {
        process.stderr.write(`${def.name}: ${sig}, draining\n`);
        svc.stop().then(
          () => process.exit(0),
          (e) => {
            process.stderr.write(`${def.name}: stop failed: ${(e as Error).stack}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    },
    (e) => {
      const bad = e instanceof ConfigError;
      process.stderr.write(`${def.name}: ${bad ? 'bad configuration: ' : ''}${(e as Error).message}\n`);
      process.exit(bad ? 2 : 1);
    },
  );
}

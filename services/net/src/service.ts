/**
 * The net service's definition for @prose/service: its options (the access policy and the
 * limits) and how the tree is built from them. main.ts only runs it.
 */
import { ConfigError, type Config, type ConfigSpec, type ServiceDef } from '@prose/service';
import { NET_DEFAULTS, NetFs } from './fs.js';
import { DEFAULT_POLICY, Policy } from './policy.js';

/** The options of the net service, besides the common ones (listen, health, ...). */
export const NET_OPTIONS: ConfigSpec = {
  'connect-allow': {
    type: 'list', env: 'PROSE_NET_CONNECT_ALLOW', default: [...DEFAULT_POLICY.connectAllow],
    help: 'address ranges (CIDR) connects and UDP sends may reach',
  },
  'connect-ports': {
    type: 'list', env: 'PROSE_NET_CONNECT_PORTS', default: [...DEFAULT_POLICY.connectPorts],
    help: 'ports (N, N-M, *) connects and UDP sends may reach',
  },
  'announce-addr': {
    type: 'string', env: 'PROSE_NET_ANNOUNCE_ADDR', default: DEFAULT_POLICY.announceAddr,
    help: 'local address announces listen on',
  },
  'announce-ports': {
    type: 'list', env: 'PROSE_NET_ANNOUNCE_PORTS', default: [...DEFAULT_POLICY.announcePorts],
    help: 'ports (N, N-M, *) announces may take',
  },
  'connect-timeout-ms': { type: 'number', env: 'PROSE_NET_CONNECT_TIMEOUT_MS', default: NET_DEFAULTS.connectTimeoutMs, help: 'how long a connect may take' },
  'buffer-bytes': { type: 'number', env: 'PROSE_NET_BUFFER_BYTES', default: NET_DEFAULTS.bufferBytes, help: 'bytes held per conversation for its readers' },
  backlog: { type: 'number', env: 'PROSE_NET_BACKLOG', default: NET_DEFAULTS.backlog, help: 'calls waiting for listen per announce' },
  'max-conversations': { type: 'number', env: 'PROSE_NET_MAX_CONVERSATIONS', default: NET_DEFAULTS.maxConversations, help: 'live conversations per protocol' },
  mount: { type: 'string', env: 'PROSE_NET_MOUNT', default: '/net', help: 'where partitions mount the tree (prefix of cs answers)' },
};

function positive(cfg: Config, name: string): number {
  const v = cfg[name] as number;
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name}: want a positive integer, got ${v}`);
  return v;
}

/** The policy of a configuration; a bad entry is a ConfigError naming its option. */
export function policyOf(cfg: Config): Policy {
  try {
    return new Policy({
      connectAllow: cfg['connect-allow'] as string[],
      connectPorts: cfg['connect-ports'] as string[],
      announceAddr: cfg['announce-addr'] as string,
      announcePorts: cfg['announce-ports'] as string[],
    });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

export const netService: ServiceDef = {
  name: 'net',
  options: NET_OPTIONS,
  build(cfg, { logger }) {
    const fs = new NetFs({
      policy: policyOf(cfg),
      connectTimeoutMs: positive(cfg, 'connect-timeout-ms'),
      bufferBytes: positive(cfg, 'buffer-bytes'),
      backlog: positive(cfg, 'backlog'),
      maxConversations: positive(cfg, 'max-conversations'),
      mount: cfg.mount as string,
      logger,
    });
    return { srv: fs.tree(), close: () => fs.close() };
  },
};

/**
 * The cons service: its options and how its tree is built from them (main.ts runs it).
 */
import * as os from 'node:os';
import { ConfigError, type Config, type ServiceDef } from '@prose/service';
import { buildConsFs } from './fs.js';

function int(cfg: Config, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = cfg[name] as number;
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${name}: want an integer in ${min}..${max}, got ${v}`);
  return v;
}

/** The cons service (see README.md). */
export const consService: ServiceDef = {
  name: 'cons',
  options: {
    sysname: { type: 'string', env: 'PROSE_CONS_SYSNAME', help: 'sysname of the host and of new consoles (default: the host name)' },
    'log-size': { type: 'number', env: 'PROSE_CONS_LOG_SIZE', default: 65536, help: 'bytes of output kept per console for operator/out' },
    'input-size': { type: 'number', env: 'PROSE_CONS_INPUT_SIZE', default: 65536, help: 'most bytes of unread input per console' },
    'max-consoles': { type: 'number', env: 'PROSE_CONS_MAX', default: 256, help: 'most consoles at once' },
    'linger-ms': {
      type: 'number', env: 'PROSE_CONS_LINGER_MS', default: 60000,
      help: 'free a console this long after its last file is closed; 0 at once, -1 never (only hangup)',
    },
    operator: { type: 'string', env: 'PROSE_CONS_OPERATOR', default: '', help: 'user owning every operator/ (mode 0700); "" lets anyone' },
  },
  build(cfg) {
    const fs = buildConsFs({
      sysname: (cfg.sysname as string | undefined) ?? os.hostname(),
      logSize: int(cfg, 'log-size', 1, 64 * 1024 * 1024),
      inputSize: int(cfg, 'input-size', 1, 64 * 1024 * 1024),
      maxConsoles: int(cfg, 'max-consoles', 1, 1 << 20),
      lingerMs: int(cfg, 'linger-ms', -1, 2 ** 31 - 1),
      operator: cfg.operator as string,
    });
    return { srv: fs.tree, drain: () => fs.close(), close: () => fs.close() };
  },
};

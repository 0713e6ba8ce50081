/**
 * The time service: its options and how its tree is built from them (main.ts runs it).
 */
import { ConfigError, type ServiceDef } from '@prose/service';
import { buildTimeFs } from './fs.js';

/** The time service (see README.md). */
export const timeService: ServiceDef = {
  name: 'time',
  options: {
    'max-timers': { type: 'number', env: 'PROSE_TIME_MAX_TIMERS', default: 1024, help: 'most timers at once' },
  },
  build(cfg) {
    const max = cfg['max-timers'] as number;
    if (!Number.isInteger(max) || max < 1 || max > 1 << 20) throw new ConfigError(`max-timers: want an integer in 1..${1 << 20}, got ${max}`);
    const fs = buildTimeFs({ maxTimers: max });
    return { srv: fs.tree, drain: () => fs.close(), close: () => fs.close() };
  },
};

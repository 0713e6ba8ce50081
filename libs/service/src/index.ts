/**
 * @prose/service — what every PROSE service's main shares: configuration (file, env, flags),
 * listeners, grpc.health.v1, and draining on SIGTERM.
 */
import * as fromConfig from './config.js';
import * as fromHealth from './health.js';
import * as fromEnv from './env.js';
import * as fromRun from './run.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import loadConfig = fromConfig.loadConfig;
export import usage = fromConfig.usage;
export import ConfigError = fromConfig.ConfigError;
export type { Config, ConfigSpec, OptionSpec, OptionType, ConfigValue } from './config.js';
export import startHealth = fromHealth.startHealth;
export type { HealthServer } from './health.js';
export import MESH_ENV = fromEnv.MESH_ENV;
export import meshEnv = fromEnv.meshEnv;
export import startService = fromRun.startService;
export import runMain = fromRun.runMain;
export import COMMON_OPTIONS = fromRun.COMMON_OPTIONS;
export type { ServiceDef, BuiltService, RunningService } from './run.js';

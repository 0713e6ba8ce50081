/**
 * @prose/service — what every PROSE service's main shares: configuration (file, env, flags),
 * listeners, grpc.health.v1, and draining on SIGTERM.
 */
export { loadConfig, usage, ConfigError, type Config, type ConfigSpec, type OptionSpec, type OptionType, type ConfigValue } from './config.js';
export { startHealth, type HealthServer } from './health.js';
export { MESH_ENV, meshEnv } from './env.js';
export { startService, runMain, COMMON_OPTIONS, type ServiceDef, type BuiltService, type RunningService } from './run.js';

/**
 * Service configuration from three sources, later ones winning: a JSON config file
 * (`--config path` or `PROSE_CONFIG`), environment variables, command-line flags
 * (`--name value`, `--name=value`, repeatable for lists, `--flag` for booleans).
 * Every option is declared with its type, so bad input is a clear `ConfigError`.
 */
import { readFileSync } from 'node:fs';

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  type: OptionType;
  /** Environment variable that sets it (lists: comma-separated). */
  env?: string;
  default?: string | number | boolean | string[];
  help: string;
  /** Short flag without the dash, e.g. "D". */
  short?: string;
}

export type ConfigSpec = Record<string, OptionSpec>;
export type ConfigValue = string | number | boolean | string[] | undefined;
export type Config = Record<string, ConfigValue>;

/** A configuration the service cannot start with; `message` says which option and why. */
export class ConfigError extends Error {
  readonly code = 'ECONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function coerce(name: string, spec: OptionSpec, raw: unknown, from: string): ConfigValue {
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string') throw new ConfigError(`${name} (${from}): want a string, got ${JSON.stringify(raw)}`);
      return raw;
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw new ConfigError(`${name} (${from}): want a number, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new ConfigError(`${name} (${from}): want true or false, got ${JSON.stringify(raw)}`);
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
      if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter(Boolean);
      throw new ConfigError(`${name} (${from}): want a list of strings, got ${JSON.stringify(raw)}`);
  }
}

/**
 * Resolves the configuration. `argv` is the arguments after the script (process.argv.slice(2)).
 * Unknown flags, unknown config-file keys, missing values and wrong types throw ConfigError.
 * `--help` sets `help: true` in the result.
 */
export function loadConfig(spec: ConfigSpec, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const out: Config = {};
  for (const [k, s] of Object.entries(spec)) out[k] = s.default;

  const configPath = flagValue(argv, 'config') ?? env.PROSE_CONFIG;
  if (configPath) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new ConfigError(`config file ${configPath}: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${configPath}: want a JSON object`);
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      const s = spec[k];
      if (!s) throw new ConfigError(`config file ${configPath}: unknown option "${k}"`);
      out[k] = coerce(k, s, v, configPath);
    }
  }

  for (const [k, s] of Object.entries(spec)) {
    const v = s.env ? env[s.env] : undefined;
    if (v !== undefined && v !== '') out[k] = coerce(k, s, v, `$${s.env}`);
  }

  const lists = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') { out.help = true; continue; }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      const hit = Object.entries(spec).find(([, s]) => s.short === arg.slice(1));
      if (!hit) throw new ConfigError(`unknown flag ${arg}`);
      name = hit[0];
    } else {
      throw new ConfigError(`unexpected argument "${arg}"`);
    }
    if (name === 'config') { if (inline === undefined) i++; continue; }
    const s = spec[name];
    if (!s) throw new ConfigError(`unknown flag --${name}`);
    if (s.type === 'boolean' && inline === undefined) { out[name] = true; continue; }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new ConfigError(`--${name} wants a value`);
    if (s.type === 'list') {
      const prev = lists.has(name) ? (out[name] as string[]) : [];
      lists.add(name);
      out[name] = [...prev, ...(coerce(name, s, raw, `--${name}`) as string[])];
    } else {
      out[name] = coerce(name, s, raw, `--${name}`);
    }
  }
  return out;
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  return undefined;
}

/** The usage text of a spec. */
export function usage(name: string, spec: ConfigSpec): string {
  const lines = [`usage: ${name} [--config file.json] [flags]`];
  for (const [k, s] of Object.entries(spec)) {
    const flag = `${s.short ? `-${s.short}, ` : ''}--${k}${s.type === 'boolean' ? '' : ` <${s.type}>`}`;
    const dflt = s.default === undefined ? '' : ` (default ${JSON.stringify(s.default)})`;
    lines.push(`  ${flag.padEnd(28)} ${s.help}${s.env ? ` [$${s.env}]` : ''}${dflt}`);
  }
  return lines.join('\n');
}

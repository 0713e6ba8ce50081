/**
 * Opening a store from configuration, and the registration hook services call from their main.
 */
import { GrpcStore } from './grpc-store.js';
import { MemoryStore } from './memory-store.js';
import { NatsStore } from './nats-store.js';
import { register, type Registration } from './directory.js';
import type { ProviderInfo } from './record.js';
import type { Store } from './store.js';

export interface StoreConfig {
  /**
   * NATS server URLs, comma-separated (`nats://127.0.0.1:4222,...`), or the gRPC address of a
   * registry service (`tcp!host!port`, which may run the embedded store); empty or absent: a new
   * embedded store in this process.
   */
  nats?: string | string[];
  bucket?: string;
  replicas?: number;
  history?: number;
  /** Connection name. */
  name?: string;
  timeoutMs?: number;
}

/** A NatsStore when `nats` names servers, else a fresh MemoryStore. */
export async function openStore(cfg: StoreConfig = {}): Promise<Store> {
  const servers = typeof cfg.nats === 'string' ? cfg.nats.trim() : cfg.nats;
  if (servers === undefined || servers === '' || servers === 'none' || (Array.isArray(servers) && servers.length === 0)) return new MemoryStore();
  if (typeof servers === 'string' && servers.startsWith('tcp!')) return new GrpcStore(servers, cfg.timeoutMs);
  return NatsStore.connect({
    servers, bucket: cfg.bucket, replicas: cfg.replicas, history: cfg.history, name: cfg.name, timeoutMs: cfg.timeoutMs,
  });
}

/** The configuration keys `registerFromConfig` reads (names as in @prose/service's COMMON_OPTIONS). */
export interface RegistrationConfig {
  /** NATS URLs of the directory, or a registry's gRPC address (tcp!host!port); empty, absent or "none": do not register. */
  registry?: unknown;
  /** Lease length in ms (default 6000). */
  'registry-lease-ms'?: unknown;
  /** Bucket replicas (default 1). */
  'registry-replicas'?: unknown;
  /** Zone label. */
  'registry-zone'?: unknown;
  /** Provider id (default: host-pid-random). */
  'registry-provider'?: unknown;
  /** Addresses to advertise instead of `info.addrs` (e.g. a routable host for tcp!0.0.0.0!564). */
  'registry-addr'?: unknown;
}

/** A service's registration with the store it opened; `stop()` deregisters and disconnects. */
export interface ServiceRegistration {
  readonly registration: Registration;
  readonly store: Store;
  stop(): Promise<void>;
}

/**
 * Registers a service's provider in the directory named by `cfg.registry` (NATS URLs), with
 * all its addresses; resolves undefined when no registry is configured. Keeps the lease until
 * `stop()` (call it on SIGTERM, before draining).
 */
export async function registerFromConfig(
  cfg: RegistrationConfig,
  info: Omit<ProviderInfo, 'provider' | 'zone'> & { provider?: string; zone?: string },
  opts: { onError?(err: unknown): void } = {},
): Promise<ServiceRegistration | undefined> {
  const url = typeof cfg.registry === 'string' ? cfg.registry.trim() : '';
  if (url === '' || url === 'none') return undefined;
  const store = await openStore({
    nats: url,
    replicas: typeof cfg['registry-replicas'] === 'number' ? cfg['registry-replicas'] : undefined,
    name: `prose-${info.service}`,
  });
  try {
    const advertised = Array.isArray(cfg['registry-addr']) ? (cfg['registry-addr'] as unknown[]).filter((a): a is string => typeof a === 'string') : [];
    const registration = await register(store, {
      ...info,
      addrs: advertised.length > 0 ? advertised : info.addrs,
      provider: info.provider ?? (typeof cfg['registry-provider'] === 'string' && cfg['registry-provider'] !== '' ? cfg['registry-provider'] : undefined),
      zone: info.zone ?? (typeof cfg['registry-zone'] === 'string' ? cfg['registry-zone'] : undefined),
    }, {
      ttlMs: typeof cfg['registry-lease-ms'] === 'number' ? cfg['registry-lease-ms'] : undefined,
      onError: opts.onError,
    });
    let stopping: Promise<void> | undefined;
    return {
      registration,
      store,
      stop: () => (stopping ??= registration.stop().finally(() => store.close())),
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

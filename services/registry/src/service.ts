/**
 * The registry service: the directory as a 9P tree and as gRPC Registry, on one store (NATS
 * JetStream KV given `--nats`, else the embedded store).
 */
import { Directory, openStore, type Store } from '@prose/directory';
import { startService, type RunningService, type ServiceDef } from '@prose/service';
import { registryTree } from './fs.js';
import { REGISTRY_SERVICE, addRegistryService } from './grpc.js';

export interface RegistryState {
  store: Store;
  directory: Directory;
}

/** The service definition; `state` is filled in by build. */
export function registryService(state: Partial<RegistryState> = {}): ServiceDef {
  return {
    name: 'registry',
    options: {
      nats: { type: 'string', env: 'PROSE_NATS', default: '', help: 'NATS URLs of the directory store (nats://h:p,...); empty: embedded store' },
      bucket: { type: 'string', env: 'PROSE_BUCKET', default: 'prose_channels', help: 'JetStream KV bucket' },
      replicas: { type: 'number', env: 'PROSE_REPLICAS', default: 1, help: 'bucket replicas when it is created' },
    },
    async build(cfg) {
      const store = await openStore({
        nats: cfg.nats as string, bucket: cfg.bucket as string, replicas: cfg.replicas as number, name: 'prose-registry',
      });
      const directory = new Directory(store);
      await directory.ready();
      state.store = store;
      state.directory = directory;
      return {
        srv: registryTree(directory),
        close: async () => {
          directory.close();
          await store.close();
        },
      };
    },
  };
}

export interface RunningRegistry {
  service: RunningService;
  directory: Directory;
  store: Store;
}

/** Starts the registry: 9P listeners, then Registry and reflection on the health gRPC server. */
export async function startRegistry(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunningRegistry> {
  const state: Partial<RegistryState> = {};
  const service = await startService(registryService(state), argv, env);
  if (service.health) {
    addRegistryService(service.health.grpc, state.directory!);
  }
  return { service, directory: state.directory!, store: state.store! };
}

export { REGISTRY_SERVICE };

/**
 * @prose/directory — the directory of I/O channels. Providers register a record (service,
 * provider id, addresses per transport, host and zone, dialects, msize, load, lease) in a Store
 * — NATS JetStream KV, or an embedded in-process store when no NATS is configured (reached
 * from other processes through the registry service's gRPC API, GrpcStore) — and keep
 * its lease; readers look services up, list and watch them, and choose the provider with the
 * fastest channel (shm on the same host, then unix, then tcp), the least loaded among equals.
 *
 *   const store = await openStore({ nats: 'nats://127.0.0.1:4222' });
 *   const reg = await register(store, { service: 'time', addrs: ['tcp!127.0.0.1!5640'] });
 *   const dir = new Directory(store);
 *   const [best] = await dir.lookup('time');          // { record, addr, rank }
 *   for await (const e of dir.watch()) console.log(e.kind, e.service, e.provider);
 */
export {
  type ProviderRecord, type ProviderInfo, DirectoryError, isValidName, checkName, recordKey, parseKey,
  newProviderId, makeRecord, decodeRecord, encodeRecord, isLive,
} from './record.js';
export type { Store, StoreEvent, Announcement, Presence } from './store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { NatsStore, parseServers, type NatsStoreOptions } from './nats-store.js';
export { GrpcStore } from './grpc-store.js';
export {
  PROTO_DIR, REGISTRY_PROTO, REGISTRY_SERVICE, loadRegistryProto, recordToMsg, recordFromMsg, type ProviderMsg,
} from './proto.js';
export { bestAddr, choose, type Choice, type ChooseOptions } from './choose.js';
export {
  Directory, register, type DirectoryEvent, type DirectoryOptions, type Registration, type RegisterOptions,
} from './directory.js';
export {
  openStore, registerFromConfig, type StoreConfig, type RegistrationConfig, type ServiceRegistration,
} from './config.js';
export { Channel } from './channel.js';

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
import * as fromRecord from './record.js';
import * as fromMemoryStore from './memory-store.js';
import * as fromNatsStore from './nats-store.js';
import * as fromGrpcStore from './grpc-store.js';
import * as fromProto from './proto.js';
import * as fromChoose from './choose.js';
import * as fromDirectory from './directory.js';
import * as fromConfig from './config.js';
import * as fromChannel from './channel.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import DirectoryError = fromRecord.DirectoryError;
export import isValidName = fromRecord.isValidName;
export import checkName = fromRecord.checkName;
export import recordKey = fromRecord.recordKey;
export import parseKey = fromRecord.parseKey;
export import newProviderId = fromRecord.newProviderId;
export import makeRecord = fromRecord.makeRecord;
export import decodeRecord = fromRecord.decodeRecord;
export import encodeRecord = fromRecord.encodeRecord;
export import isLive = fromRecord.isLive;
export type { ProviderRecord, ProviderInfo } from './record.js';
export type { Store, StoreEvent, Announcement, Presence } from './store.js';
export import MemoryStore = fromMemoryStore.MemoryStore;
export type { MemoryStoreOptions } from './memory-store.js';
export import NatsStore = fromNatsStore.NatsStore;
export import parseServers = fromNatsStore.parseServers;
export type { NatsStoreOptions } from './nats-store.js';
export import GrpcStore = fromGrpcStore.GrpcStore;
export import PROTO_DIR = fromProto.PROTO_DIR;
export import REGISTRY_PROTO = fromProto.REGISTRY_PROTO;
export import REGISTRY_SERVICE = fromProto.REGISTRY_SERVICE;
export import loadRegistryProto = fromProto.loadRegistryProto;
export import recordToMsg = fromProto.recordToMsg;
export import recordFromMsg = fromProto.recordFromMsg;
export type { ProviderMsg } from './proto.js';
export import bestAddr = fromChoose.bestAddr;
export import choose = fromChoose.choose;
export type { Choice, ChooseOptions } from './choose.js';
export import Directory = fromDirectory.Directory;
export import register = fromDirectory.register;
export type { DirectoryEvent, DirectoryOptions, Registration, RegisterOptions } from './directory.js';
export import openStore = fromConfig.openStore;
export import registerFromConfig = fromConfig.registerFromConfig;
export type { StoreConfig, RegistrationConfig, ServiceRegistration } from './config.js';
export import Channel = fromChannel.Channel;

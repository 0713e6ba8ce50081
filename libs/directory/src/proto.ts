/**
 * The gRPC shape of the directory (proto/prose/v1/registry.proto, the one place for .proto
 * files): loading it, and records to and from its Provider message.
 */
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { ProviderRecord } from './record.js';

/** The repository's proto directory (libs/directory/{src,dist} → ../../../proto). */
export const PROTO_DIR = path.resolve(__dirname, '..', '..', '..', 'proto');
export const REGISTRY_PROTO = 'prose/v1/registry.proto';
/** The fully qualified gRPC service name. */
export const REGISTRY_SERVICE = 'prose.v1.Registry';

/** Loads registry.proto (camelCase fields, longs as Number, enums as String, defaults on). */
export function loadRegistryProto(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(REGISTRY_PROTO, {
    includeDirs: [PROTO_DIR], keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true,
  });
}

/** prose.v1.Provider as proto-loader gives and takes it. */
export interface ProviderMsg {
  service: string; provider: string; addrs: string[]; host: string; zone: string; dialects: string[];
  msize: number; load: number; startedAtMs: number; expiresAtMs: number; meta: Record<string, string>;
}

export function recordToMsg(r: ProviderRecord): ProviderMsg {
  return {
    service: r.service, provider: r.provider, addrs: r.addrs, host: r.host, zone: r.zone, dialects: r.dialects,
    msize: r.msize, load: r.load, startedAtMs: r.startedAt, expiresAtMs: r.expiresAt, meta: r.meta,
  };
}

export function recordFromMsg(m: ProviderMsg): ProviderRecord {
  return {
    service: m.service, provider: m.provider, addrs: [...m.addrs], host: m.host, zone: m.zone, dialects: [...m.dialects],
    msize: m.msize, load: m.load, startedAt: Number(m.startedAtMs), expiresAt: Number(m.expiresAtMs), meta: { ...m.meta },
  };
}

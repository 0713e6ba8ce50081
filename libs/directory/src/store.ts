/**
 * Where records live. Two implementations with the same semantics: `NatsStore` (JetStream KV)
 * and `MemoryStore` (in-process). A store keeps records as they were put, expired or not: the
 * lease is honoured by readers (see Directory), because per-key TTL is not available on every
 * NATS server.
 */
import type { ProviderRecord } from './record.js';

/** A change seen by a store watch. `sync` marks the end of the initial values. */
export type StoreEvent =
  | { op: 'put'; service: string; provider: string; record: ProviderRecord; revision: number }
  | { op: 'delete'; service: string; provider: string; revision: number }
  | { op: 'sync' };

/** What a provider announces for "who is up now" (NATS micro-services); stop() withdraws it. */
export interface Announcement {
  stop(): Promise<void>;
}

/** An instance answering `$SRV.PING` right now. */
export interface Presence {
  service: string;
  provider: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
}

export interface Store {
  /** "nats", "memory" or "grpc". */
  readonly kind: string;
  /** Stores the record under its key; resolves with the new revision. */
  put(record: ProviderRecord): Promise<number>;
  /** Removes a record (a delete marker in history); absent keys are fine. */
  delete(service: string, provider: string): Promise<void>;
  /** The stored record, expired or not. */
  get(service: string, provider: string): Promise<ProviderRecord | undefined>;
  /** Every stored record (of `service`, when given), expired or not. */
  list(service?: string): Promise<ProviderRecord[]>;
  /**
   * The current values (as puts), then `sync`, then every change, until the iterator is
   * returned or the store closed. Implementations survive reconnects without losing changes.
   */
  watch(): AsyncIterableIterator<StoreEvent>;
  /** Liveness announcement (NATS micro-services); the memory store's does nothing. */
  announce(record: ProviderRecord): Promise<Announcement>;
  /** Who answers a ping now (NATS micro-services); the memory store answers from its records. */
  ping(service?: string, timeoutMs?: number): Promise<Presence[]>;
  close(): Promise<void>;
}

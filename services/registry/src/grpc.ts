/**
 * The gRPC Registry service (proto/prose/v1/registry.proto) over a Directory, and server
 * reflection. Errors map once: bad names and records → INVALID_ARGUMENT, no provider →
 * NOT_FOUND, store trouble → UNAVAILABLE.
 */
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import {
  DirectoryError, REGISTRY_SERVICE, loadRegistryProto, makeRecord, recordToMsg, type Directory, type DirectoryEvent, type ProviderMsg,
} from '@prose/directory';

export { REGISTRY_SERVICE };

function eventMsg(e: DirectoryEvent) {
  return {
    kind: e.kind === 'put' ? 'PUT' : e.kind === 'delete' ? 'DELETE' : 'EXPIRE',
    service: e.service, provider: e.provider, record: e.record ? recordToMsg(e.record) : null, atMs: e.at, refresh: e.refresh === true,
  };
}

function status(e: unknown): Partial<grpc.StatusObject> {
  if (e instanceof DirectoryError) {
    const code = e.code === 'EBADNAME' || e.code === 'EBADRECORD' ? grpc.status.INVALID_ARGUMENT
      : e.code === 'ENOPROVIDER' ? grpc.status.NOT_FOUND : grpc.status.UNAVAILABLE;
    return { code, details: e.message };
  }
  return { code: grpc.status.UNAVAILABLE, details: (e as Error).message ?? String(e) };
}

function unary<Req, Res>(fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, cb) => {
    fn(call.request).then((r) => cb(null, r), (e) => cb(status(e)));
  };
}

/** Adds Registry (and reflection for it and grpc.health.v1's callers) to `server`. */
export function addRegistryService(server: grpc.Server, d: Directory, opts: { host?: string; defaultTtlMs?: number } = {}): void {
  const def = loadRegistryProto();
  const pkg = grpc.loadPackageDefinition(def) as unknown as { prose: { v1: { Registry: grpc.ServiceClientConstructor } } };
  const impl: grpc.UntypedServiceImplementation = {
    List: unary(async (req: { service: string; includeExpired: boolean }) => ({
      providers: (await d.list(req.service || undefined, { includeExpired: req.includeExpired })).map(recordToMsg),
    })),
    Lookup: unary(async (req: { service: string; host: string; transports: string[] }) => {
      const choices = await d.lookup(req.service, {
        host: req.host || opts.host,
        transports: req.transports.length > 0 ? req.transports : undefined,
      });
      return { choices: choices.map((c) => ({ provider: recordToMsg(c.record), addr: c.addr, rank: c.rank })) };
    }),
    Watch: (call: grpc.ServerWritableStream<{ service: string; initial: boolean; refreshes: boolean }, unknown>) => {
      const it = d.watch({ service: call.request.service || undefined, initial: call.request.initial, refreshes: call.request.refreshes });
      call.on('cancelled', () => void it.return?.());
      call.on('close', () => void it.return?.());
      void (async () => {
        for await (const e of it) {
          if (call.cancelled) break;
          call.write(eventMsg(e));
        }
        call.end();
      })();
    },
    Register: unary(async (req: { provider: ProviderMsg | null; ttlMs: number }) => {
      const p = req.provider;
      if (!p) throw new DirectoryError('Register: no provider', 'EBADRECORD');
      const rec = makeRecord({
        service: p.service, provider: p.provider || undefined, addrs: p.addrs, host: p.host || undefined, zone: p.zone,
        dialects: p.dialects.length > 0 ? p.dialects : undefined, msize: p.msize || undefined, load: p.load,
        startedAt: p.startedAtMs || undefined, meta: p.meta,
      }, req.ttlMs || opts.defaultTtlMs || 6000);
      await d.store.put(rec);
      return { provider: recordToMsg(rec) };
    }),
    Deregister: unary(async (req: { service: string; provider: string }) => {
      await d.store.delete(req.service, req.provider);
      return {};
    }),
  };
  server.addService(pkg.prose.v1.Registry.service, impl);
  new ReflectionService(def).addToServer(server);
}


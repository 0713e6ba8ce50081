/**
 * grpc.health.v1 on every service (Kubernetes gRPC probes): Check and Watch for the whole
 * server ("") and for the service's own name; NOT_SERVING while draining.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { Errno, NinepError } from '@prose/protocol';
import { parseDialString } from '@prose/transport';

export interface HealthServer {
  /** The dial string the gRPC server is bound to (real port). */
  readonly addr: string;
  /** The gRPC server, for adding more services before or after start. */
  readonly grpc: grpc.Server;
  setServing(serving: boolean): void;
  close(): Promise<void>;
}

/**
 * Starts a gRPC server on `addr` (`tcp!host!port`, port 0 for any) answering grpc.health.v1
 * for "" and for `serviceName`, both SERVING until `setServing(false)`.
 */
export async function startHealth(addr: string, serviceName: string): Promise<HealthServer> {
  const a = parseDialString(addr);
  if (a.net !== 'tcp') throw new NinepError(`health address ${addr}: must be tcp!host!port`, Errno.EINVAL);
  const server = new grpc.Server();
  const health = new HealthImplementation({ '': 'SERVING', [serviceName]: 'SERVING' });
  health.addToServer(server);
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${a.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const set = (s: ServingStatus) => {
    health.setStatus('', s);
    health.setStatus(serviceName, s);
  };
  return {
    addr: `tcp!${a.host}!${port}`,
    grpc: server,
    setServing: (serving) => set(serving ? 'SERVING' : 'NOT_SERVING'),
    close: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 2000);
        server.tryShutdown(() => { clearTimeout(t); resolve(); });
      }),
  };
}

/**
 * Asking a service's grpc.health.v1 endpoint, as a Kubernetes gRPC probe would.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { parseDialString } from '@prose/transport';

/** The grpc.health.v1 status ("SERVING", "NOT_SERVING", …) of `service` ("" = the whole server) at `tcp!host!port`. */
export async function healthStatus(addr: string, service = ''): Promise<string> {
  const a = parseDialString(addr);
  if (a.net !== 'tcp') throw new Error(`health address ${addr}: want tcp!host!port`);
  const Health = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  const c = new Health(`${a.host}:${a.port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Check(req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string | number }) => void): void;
  };
  try {
    return await new Promise<string>((resolve, reject) =>
      c.Check({ service }, { deadline: Date.now() + 3000 }, (err, res) => (err ? reject(err) : resolve(String(res!.status)))),
    );
  } finally {
    c.close();
  }
}

/**
 * grpc-js clients for the tests: Registry (from proto/prose/v1/registry.proto), grpc.health.v1
 * and server reflection, with promise wrappers.
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';

const ROOT = path.resolve(__dirname, '..', '..');

function target(addr: string): string {
  const [, host, port] = addr.split('!');
  return `${host}:${port}`;
}

export interface RegistryClient {
  raw: grpc.Client & Record<string, any>;
  call<T = any>(method: 'List' | 'Lookup' | 'Register' | 'Deregister', req: object): Promise<T>;
  watch(req: object): grpc.ClientReadableStream<any>;
  close(): void;
}

export function registryClient(addr: string): RegistryClient {
  const def = protoLoader.loadSync('prose/v1/registry.proto', {
    includeDirs: [path.join(ROOT, 'proto')], keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const raw = new pkg.prose.v1.Registry(target(addr), grpc.credentials.createInsecure());
  return {
    raw,
    call: (method, req) => new Promise((resolve, reject) => {
      raw[method](req, { deadline: Date.now() + 5000 }, (err: Error | null, res: any) => (err ? reject(err) : resolve(res)));
    }),
    watch: (req) => raw.Watch(req),
    close: () => raw.close(),
  };
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

export function healthCheck(addr: string, service: string): Promise<string> {
  const c = new HealthClient(target(addr), grpc.credentials.createInsecure()) as unknown as {
    check(req: { service: string }, opts: grpc.CallOptions, cb: (err: Error | null, res: { status: string }) => void): void; close(): void;
  };
  return new Promise((resolve, reject) =>
    c.check({ service }, { deadline: Date.now() + 5000 }, (err, res) => { c.close(); if (err) reject(err); else resolve(res.status); }));
}

/** The services the server lists over reflection (grpc.reflection.v1). */
export function reflectionServices(addr: string): Promise<string[]> {
  const dir = path.join(ROOT, 'node_modules', '@grpc', 'reflection', 'build', 'proto');
  const def = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [dir], keepCase: true, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const c = new pkg.grpc.reflection.v1.ServerReflection(target(addr), grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = c.ServerReflectionInfo();
    call.on('data', (r: any) => {
      call.end();
      c.close();
      if (r.list_services_response) resolve(r.list_services_response.service.map((s: any) => s.name));
      else reject(new Error(`unexpected reflection answer ${JSON.stringify(r)}`));
    });
    call.on('error', reject);
    call.write({ list_services: '' });
  });
}

/** Messages of a stream in order: `next()` waits (≤ ms) for the next one. */
export function messages<T = any>(s: grpc.ClientReadableStream<T>): { next(ms?: number): Promise<T>; all: T[] } {
  const all: T[] = [];
  let read = 0;
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  s.on('data', (m: T) => { all.push(m); wake?.(); });
  s.on('error', (e: Error) => { failed = e; wake?.(); });
  return {
    all,
    async next(ms = 5000) {
      const deadline = Date.now() + ms;
      while (read >= all.length) {
        if (failed) throw failed;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no message in time');
        await new Promise<void>((r) => {
          // A timer left pending after a message came would hold Jest's worker up to `ms`.
          const t = setTimeout(r, left);
          wake = () => { clearTimeout(t); r(); };
        });
        wake = undefined;
      }
      return all[read++]!;
    },
  };
}

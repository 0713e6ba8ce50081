#!/usr/bin/env node
/**
 * prose-registry: the directory of I/O channels, over 9P (/chan, /events) and gRPC (Registry,
 * grpc.health.v1, reflection). `--nats nats://127.0.0.1:4222,...`; without it, the embedded store.
 */
import { ConfigError } from '@prose/service';
import { startRegistry } from './service.js';

startRegistry(process.argv.slice(2)).then(
  (r) => {
    const stop = (sig: string) => {
      process.stderr.write(`registry: ${sig}, draining\n`);
      r.service.stop().then(() => process.exit(0), (e) => {
        process.stderr.write(`registry: stop failed: ${(e as Error).stack}\n`);
        process.exit(1);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  },
  (e) => {
    const bad = e instanceof ConfigError;
    process.stderr.write(`registry: ${bad ? 'bad configuration: ' : ''}${(e as Error).message}\n`);
    process.exit(bad ? 2 : 1);
  },
);

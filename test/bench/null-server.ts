/**
 * The 9P peer of the core benchmark: a server whose only file, `null`, discards writes (and
 * reads as empty). Listens on every dial string given as an argument and prints
 * `listening <addr>` for each.
 */
import { Server, Tree, dir, file, silentLogger } from '@prose/server';

/** The null-file tree. */
export function nullTree(): Tree {
  return new Tree(dir('/', [file('null', { write: (_h, _off, data) => data.length, read: () => Buffer.alloc(0) }, { perm: 0o666 })]));
}

if (require.main === module) {
  (async () => {
    const server = new Server(nullTree(), { logger: silentLogger });
    for (const a of process.argv.slice(2)) {
      const l = await server.listen(a);
      process.stdout.write(`listening ${l.addr}\n`);
    }
    process.on('SIGTERM', () => process.exit(0));
  })().catch((e) => {
    process.stderr.write(`null-server: ${(e as Error).message}\n`);
    process.exit(1);
  });
}

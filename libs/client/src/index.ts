/**
 * @prose/client — the 9P client of the mesh: connects over any Conn (or a dial string),
 * negotiates version and msize, pipelines requests over a tag pool, turns AbortSignals into
 * Tflush with flush(5) semantics, and offers every 9P2000 and 9P2000.L operation on Fid handles,
 * with windowed whole-file helpers and Node streams.
 *
 *   const c = await Client.connect('tcp!127.0.0.1!564');
 *   const root = await c.attach({ aname: '/srv/export' });
 *   await c.writeFile('notes/hello', 'hi\n');
 *   const text = (await c.readFile('notes/hello')).toString();
 */
export {
  Client, DEFAULT_MSIZE, MIN_MSIZE, baseDialect, type AttachOptions, type CallOptions, type ConnectOptions,
} from './client.js';
export {
  Fid, nextCookie, splitPath, type DirEntry, type GidOptions, type LockInfo, type LockOptions, type ReadFileOptions,
  type SetattrChanges, type Statfs, type TimeSpec, type WriteFileOptions,
} from './fid.js';
export {
  FidReadStream, FidWriteStream, DEFAULT_WINDOW, readAll, writeAll, type ReadAllOptions, type ReadStreamOptions,
  type WriteAllOptions, type WriteStreamOptions,
} from './io.js';
export { AbortError, WalkError, replyError } from './errors.js';
export type { DataRef } from './mux.js';
export type { ReplyTo, Request } from './reply.js';

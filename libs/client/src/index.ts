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
import * as fromClient from './client.js';
import * as fromFid from './fid.js';
import * as fromIo from './io.js';
import * as fromErrors from './errors.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import Client = fromClient.Client;
export import DEFAULT_MSIZE = fromClient.DEFAULT_MSIZE;
export import MIN_MSIZE = fromClient.MIN_MSIZE;
export import baseDialect = fromClient.baseDialect;
export type { AttachOptions, CallOptions, ConnectOptions } from './client.js';
export import Fid = fromFid.Fid;
export import nextCookie = fromFid.nextCookie;
export import splitPath = fromFid.splitPath;
export type { DirEntry, GidOptions, LockInfo, LockOptions, ReadFileOptions, SetattrChanges, Statfs, TimeSpec, WriteFileOptions } from './fid.js';
export import FidReadStream = fromIo.FidReadStream;
export import FidWriteStream = fromIo.FidWriteStream;
export import DEFAULT_WINDOW = fromIo.DEFAULT_WINDOW;
export import readAll = fromIo.readAll;
export import writeAll = fromIo.writeAll;
export type { ReadAllOptions, ReadStreamOptions, WriteAllOptions, WriteStreamOptions } from './io.js';
export import AbortError = fromErrors.AbortError;
export import WalkError = fromErrors.WalkError;
export import replyError = fromErrors.replyError;
export type { DataRef } from './mux.js';
export type { ReplyTo, Request } from './reply.js';

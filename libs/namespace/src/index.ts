/**
 * @prose/namespace — a partition's name space: mount services by name (looked up in the
 * directory, best provider first) or by address, bind paths, union directories, and a file API
 * by path that resolves to (client, fid). When a provider is lost the mount fails over to
 * another provider, re-walks and re-opens every open file, and retries what is safe to retry.
 *
 *   const ns = new Namespace({ directory });
 *   await ns.mount('/n/data', { service: 'storage' });
 *   await ns.mount('/dev', { addr: 'tcp!127.0.0.1!5641' });
 *   const f = await ns.open('/n/data/log', ORDWR);
 *   await f.write(0, Buffer.from('hello'));
 */
import * as fromNamespace from './namespace.js';
import * as fromSession from './session.js';
import * as fromErrors from './errors.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import Namespace = fromNamespace.Namespace;
export import File = fromNamespace.File;
export type { MountFlag, MountOptions, NamespaceOptions } from './namespace.js';
export import Session = fromSession.Session;
export import walkNames = fromSession.walkNames;
export type { Source, SessionOptions, FailoverInfo } from './session.js';
export import NamespaceError = fromErrors.NamespaceError;
export type { NamespaceErrorCode } from './errors.js';

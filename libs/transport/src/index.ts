/**
 * @prose/transport — the one transport interface (Conn, Listener) and its TCP, Unix-socket and
 * in-process implementations, addressed by Plan 9 dial strings.
 */
import * as fromConn from './conn.js';
import * as fromDialstring from './dialstring.js';
import * as fromNet from './net.js';
import * as fromSocketConn from './socket-conn.js';
import * as fromPair from './pair.js';
import * as fromFrameCopy from './frame-copy.js';
import * as fromVolatile from './volatile.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import DEFAULT_MAX_FRAME = fromConn.DEFAULT_MAX_FRAME;
export type { Conn, ConnHandler, Listener } from './conn.js';
export import parseDialString = fromDialstring.parseDialString;
export import formatDialString = fromDialstring.formatDialString;
export type { Addr } from './dialstring.js';
export import dial = fromNet.dial;
export import listen = fromNet.listen;
export import registerNetwork = fromNet.registerNetwork;
export type { Network, DialOptions, ListenOptions, SocketIo } from './net.js';
export import SocketConn = fromSocketConn.SocketConn;
export import connPair = fromPair.connPair;
export import copyFrame = fromFrameCopy.copyFrame;
export import u8Set = fromFrameCopy.u8Set;
export import markVolatile = fromVolatile.markVolatile;
export import volatileCopier = fromVolatile.volatileCopier;
export type { VolatileCopier } from './volatile.js';

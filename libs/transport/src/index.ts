/**
 * @prose/transport — the one transport interface (Conn, Listener) and its TCP, Unix-socket and
 * in-process implementations, addressed by Plan 9 dial strings.
 */
export { type Conn, type ConnHandler, type Listener, DEFAULT_MAX_FRAME } from './conn.js';
export { type Addr, parseDialString, formatDialString } from './dialstring.js';
export { dial, listen, registerNetwork, type Network, type DialOptions, type ListenOptions } from './net.js';
export { SocketConn } from './socket-conn.js';
export { connPair } from './pair.js';

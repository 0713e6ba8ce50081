/**
 * @prose/protocol — 9P2000, 9P2000.u and 9P2000.L messages: types, codec, text form, errors,
 * framing and version negotiation. No dependencies beyond node: built-ins.
 */
export * from './constants.js';
export * from './fcall.js';
export * from './errors.js';
export { encode, encodeVec, decode, peekHeader } from './codec.js';
export {
  writeDir, readDir, packDir, unpackDirs, nullDir, isDontTouchLength, direntSize, writeDirent, packDirents,
  unpackDirents,
} from './dir.js';
export { Reader, Writer, malformed } from './wire.js';
export { Framer, FrameError } from './framer.js';
export { chooseVersion, dialectOf, type VersionChoice } from './version.js';
export { formatFcall, formatQid, parseFcall, matchText, tokenize, type FormatOptions } from './text.js';

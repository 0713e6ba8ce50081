/**
 * @prose/clock — the cons(3) clock files for the services that serve them (cons, time): the
 * 100-byte `time` text and the 32-byte big-endian `bintime` record, their parsers, the writes
 * that set a clock (`time` seconds; `bintime` n/d/f), and clocks over the host's time that can
 * be set without touching the host.
 *
 *   const clock = new Clock();
 *   formatTime(clock.now());          // "  1735787045  1735787045123456789 ..." (100 bytes)
 *   readBintime(clock.now(), 32);     // 32 bytes: ns, ticks, freq, ns since boot
 *   writeBintime(clock, buf);         // 'n' + 8 bytes BE sets ns since the epoch
 */
export {
  type ClockSample, NUMSIZE, VLNUMSIZE, TIME_LEN, BINTIME_LEN, numField, seconds, formatTime, parseTime, encodeBintime,
  readBintime, decodeBintime, formatWall,
} from './format.js';
export { type TimeSource, HostTime, hostTime, Clock, badTimeCtl, writeTime, writeBintime } from './clock.js';

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
import * as fromFormat from './format.js';
import * as fromClock from './clock.js';

// Values as `export import` (data properties; why: @prose/protocol's index).
export import NUMSIZE = fromFormat.NUMSIZE;
export import VLNUMSIZE = fromFormat.VLNUMSIZE;
export import TIME_LEN = fromFormat.TIME_LEN;
export import BINTIME_LEN = fromFormat.BINTIME_LEN;
export import numField = fromFormat.numField;
export import seconds = fromFormat.seconds;
export import formatTime = fromFormat.formatTime;
export import parseTime = fromFormat.parseTime;
export import encodeBintime = fromFormat.encodeBintime;
export import readBintime = fromFormat.readBintime;
export import decodeBintime = fromFormat.decodeBintime;
export import formatWall = fromFormat.formatWall;
export type { ClockSample } from './format.js';
export import HostTime = fromClock.HostTime;
export import hostTime = fromClock.hostTime;
export import Clock = fromClock.Clock;
export import badTimeCtl = fromClock.badTimeCtl;
export import writeTime = fromClock.writeTime;
export import writeBintime = fromClock.writeBintime;
export type { TimeSource } from './clock.js';

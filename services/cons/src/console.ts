/**
 * One partition's console: its input (what the operator injects, read through `cons`), its
 * output log (what the partition writes to `cons`, followed by the operator), raw mode (held by
 * open `consctl` files that said `rawon`), its own clock (settable through `time` and
 * `bintime`, never the host's) and its own sysname. Consoles share nothing.
 */
import { Clock, type TimeSource } from '@prose/clock';
import { Errno, NinepError } from '@prose/protocol';
import { ConsInput } from './input.js';
import { RingLog } from './ring.js';

export interface ConsoleOptions {
  /** Initial sysname. */
  sysname: string;
  /** Bytes of output kept for followers. */
  logSize: number;
  /** Most bytes of input held. */
  inputSize: number;
  /** Time source of the console's clock (default the host's). */
  time?: TimeSource;
}

export class Console {
  readonly n: number;
  readonly input: ConsInput;
  readonly output: RingLog;
  readonly clock: Clock;
  sysname: string;
  private readonly rawHolders = new Set<object>();
  private hungup = false;

  constructor(n: number, opts: ConsoleOptions) {
    this.n = n;
    this.input = new ConsInput({ limit: opts.inputSize });
    this.output = new RingLog(opts.logSize);
    this.clock = new Clock(opts.time);
    this.sysname = opts.sysname;
  }

  get isHungup(): boolean {
    return this.hungup;
  }

  /** True while some open consctl holds raw mode. */
  get raw(): boolean {
    return this.input.raw;
  }

  /**
   * consctl `rawon` (on) or `rawoff` (off) from the open file `holder`: the console is raw while
   * any holder is. A holder's claim ends with `release` (its consctl was closed).
   */
  setRaw(holder: object, on: boolean): void {
    if (on) this.rawHolders.add(holder);
    else this.rawHolders.delete(holder);
    this.input.setRaw(this.rawHolders.size > 0);
  }

  /** The consctl file `holder` was closed: its raw claim goes. */
  release(holder: object): void {
    if (this.rawHolders.delete(holder)) this.input.setRaw(this.rawHolders.size > 0);
  }

  /** The partition writes output. Throws "console hung up" (EPIPE) after hangup. */
  write(data: Buffer): void {
    if (this.hungup) throw NinepError.errno(Errno.EPIPE, 'console hung up');
    this.output.write(data);
  }

  /** Ends the console: blocked `cons` reads and followers get end of file; input is refused. */
  hangup(): void {
    if (this.hungup) return;
    this.hungup = true;
    this.input.close();
    this.output.close();
  }

  /** One line for the root `status` file. */
  status(openFiles: number): string {
    return (
      `${this.n} ${this.raw ? 'raw' : 'cooked'} input ${this.input.length} output ${this.output.end}` +
      ` readers ${this.input.waiting} followers ${this.output.waiting} open ${openFiles}\n`
    );
  }
}

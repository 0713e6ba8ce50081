/**
 * The cons tree (after Plan 9 cons(3)): a clone directory of consoles, one per partition, each
 * with the cons(3) files and an operator side; beside `clone`, the host's shared files.
 *
 *   /clone                 open: a new console N; the fid becomes N/ctl (reads "N")
 *   /status                one line per console
 *   /sysname /time /bintime /random /null /zero    the host's (read-only clocks)
 *   /N/ctl                 read: N; write: hangup
 *   /N/cons                read: input, one line per read (raw: what is there); write: output
 *   /N/consctl             write: rawon | rawoff (raw while this file is open)
 *   /N/time /N/bintime     the console's clock (writes set it, not the host's)
 *   /N/sysname /N/user /N/random /N/null /N/zero
 *   /N/operator/in         write: input for the partition (cooked: ^H, ^U, ^D)
 *   /N/operator/out        read: the partition's output, from the oldest byte kept, then follows
 */
import { randomBytes } from 'node:crypto';
import {
  BINTIME_LEN, Clock, TIME_LEN, formatTime, readBintime, writeBintime, writeTime, type TimeSource,
} from '@prose/clock';
import { Errno, NinepError } from '@prose/protocol';
import {
  CloneDir, Tree, dir, file, instanceCtl, ctlWrite, type Handle, type Instance, type Node,
} from '@prose/server';
import { Console } from './console.js';

export interface ConsFsOptions {
  /** sysname of the host (root `sysname`) and initial sysname of every console. */
  sysname: string;
  /** Bytes of output kept per console for the operator (default 64 KiB). */
  logSize?: number;
  /** Most bytes of unread input per console (default 64 KiB). */
  inputSize?: number;
  /** Most consoles at once (default 256); one more clone open fails with EAGAIN. */
  maxConsoles?: number;
  /**
   * A console with none of its files open is freed after this many ms (default 60000);
   * 0: at once; negative: never (only `hangup` frees it).
   */
  lingerMs?: number;
  /** User owning each console's operator/ (mode 0700, files 0600); "" (default): anyone may use it. */
  operator?: string;
  /** Owner of the service's own files (default "prose"). */
  owner?: string;
  /** Time source of every clock (default the host's). */
  time?: TimeSource;
}

export interface ConsFs {
  tree: Tree;
  root: CloneDir<Console>;
  /** The live consoles by number. */
  console(n: number): Console | undefined;
  /** Frees console N now (as `hangup` does). */
  free(n: number): void;
  /** Frees every console and stops the linger timers (service shutdown). */
  close(): void;
}

/** Largest `random` read: short reads are legal and this bounds the work of one request. */
export const RANDOM_MAX = 64 * 1024;

const EMPTY = Buffer.alloc(0);
let zeros = Buffer.alloc(8192);

/** `count` zero bytes, as a view of a shared buffer nobody writes. */
function zeroBytes(count: number): Buffer {
  if (count > zeros.length) zeros = Buffer.alloc(count);
  return zeros.subarray(0, count);
}

/** Files every console and the root have alike. */
function devFiles(owner: string): Node[] {
  return [
    file('random', { read: (_h, _o, count) => randomBytes(Math.min(count, RANDOM_MAX)) }, { uid: owner }),
    file('null', { read: () => EMPTY, write: () => undefined }, { perm: 0o666, uid: owner }),
    file('zero', { read: (_h, _o, count) => zeroBytes(count) }, { perm: 0o444, uid: owner }),
  ];
}

/** Builds the tree. See the module comment for the layout and README.md for the messages. */
export function buildConsFs(opts: ConsFsOptions): ConsFs {
  const owner = opts.owner ?? 'prose';
  const operator = opts.operator ?? '';
  const logSize = opts.logSize ?? 64 * 1024;
  const inputSize = opts.inputSize ?? 64 * 1024;
  const maxConsoles = opts.maxConsoles ?? 256;
  const lingerMs = opts.lingerMs ?? 60000;
  const hostClock = new Clock(opts.time);
  const lingers = new Map<Instance<Console>, NodeJS.Timeout>();

  const free = (inst: Instance<Console>): void => {
    const t = lingers.get(inst);
    if (t !== undefined) clearTimeout(t);
    lingers.delete(inst);
    inst.state.hangup();
    void inst.remove();
  };

  const idle = (inst: Instance<Console>): void => {
    if (lingerMs < 0) return;
    if (lingerMs === 0) return free(inst);
    const old = lingers.get(inst);
    if (old !== undefined) clearTimeout(old);
    const t = setTimeout(() => {
      lingers.delete(inst);
      if (inst.openCount === 0 && !inst.removed) free(inst);
    }, lingerMs);
    t.unref();
    lingers.set(inst, t);
  };

  const consoleFiles = (inst: Instance<Console>): Node[] => {
    const con = inst.state;
    const opPerm = operator === '' ? undefined : { uid: operator };
    return [
      instanceCtl(inst, [{ name: 'hangup', args: 0, run: () => free(inst) }], { uid: owner }),
      file('cons', {
        read: (_h, _o, count, req) => con.input.read(count, req.signal),
        write: (_h, _o, data) => con.write(data),
      }, { perm: 0o666, uid: owner }),
      file('consctl', {
        write: ctlWrite([
          { name: 'rawon', args: 0, run: (_a, { h }) => con.setRaw(h, true) },
          { name: 'rawoff', args: 0, run: (_a, { h }) => con.setRaw(h, false) },
        ]),
        close: (h) => con.release(h),
      }, { perm: 0o222, uid: owner }),
      file('time', {
        content: () => formatTime(con.clock.now()),
        write: (_h, _o, data) => writeTime(con.clock, data),
        length: () => TIME_LEN,
      }, { perm: 0o666, uid: owner }),
      file('bintime', {
        read: (_h, _o, count) => readBintime(con.clock.now(), count),
        write: (_h, _o, data) => writeBintime(con.clock, data),
        length: () => BINTIME_LEN,
      }, { perm: 0o666, uid: owner }),
      file('sysname', {
        content: () => con.sysname,
        write: (_h, _o, data) => {
          const name = data.toString('utf8').replace(/\n$/, '');
          if (name.length > 255 || /[\0\n]/.test(name)) throw new NinepError('bad sysname', Errno.EINVAL);
          con.sysname = name;
        },
      }, { perm: 0o666, uid: owner }),
      file('user', { content: (h: Handle) => h.uname }, { uid: owner }),
      ...devFiles(owner),
      dir('operator', [
        file('in', { write: (_h, _o, data) => con.input.inject(data) }, { perm: operator ? 0o200 : 0o222, ...opPerm }),
        file<{ pos: number }>('out', {
          open: (h) => void (h.state = { pos: con.output.start }),
          read: async (h, _o, count, req) => {
            const st = h.state!;
            const r = await con.output.follow(st.pos, count, req.signal);
            st.pos = r.next;
            return r.data;
          },
        }, { perm: operator ? 0o400 : 0o444, ...opPerm }),
      ], { perm: operator ? 0o700 : 0o555, uid: operator || owner }),
    ];
  };

  const root: CloneDir<Console> = new CloneDir<Console>('/', {
    uid: owner,
    keep: true,
    instance: (n) => {
      if (root.instances.size >= maxConsoles) throw new NinepError(`too many consoles (${maxConsoles})`, Errno.EAGAIN);
      return new Console(n, { sysname: opts.sysname, logSize, inputSize, time: opts.time });
    },
    files: consoleFiles,
    close: idle,
    children: [
      file('status', {
        content: () => [...root.instances.values()].sort((a, b) => a.n - b.n).map((i) => i.state.status(i.openCount)).join(''),
      }, { uid: owner }),
      file('sysname', { content: () => opts.sysname }, { uid: owner }),
      file('time', { content: () => formatTime(hostClock.now()), length: () => TIME_LEN }, { uid: owner }),
      file('bintime', { read: (_h, _o, count) => readBintime(hostClock.now(), count), length: () => BINTIME_LEN }, { uid: owner }),
      ...devFiles(owner),
    ],
  });

  return {
    tree: new Tree(root),
    root,
    console: (n) => root.instances.get(n)?.state,
    free: (n) => {
      const inst = root.instances.get(n);
      if (inst !== undefined) free(inst);
    },
    close: () => {
      for (const inst of [...root.instances.values()]) free(inst);
      for (const t of lingers.values()) clearTimeout(t);
      lingers.clear();
    },
  };
}

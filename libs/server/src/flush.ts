/**
 * Tflush per flush(5).
 * - oldtag unknown, already answered, or the Tflush's own tag: Rflush at once.
 * - oldtag pending: its handler's AbortSignal fires and the Tflush waits. When the old request
 *   finishes, a real result is sent first and then the Rflush; an error (the abort) is not sent.
 * - Several Tflushes for one oldtag are answered in arrival order; a Tflush of a pending Tflush
 *   waits for that one (which itself waits for its old request): replies stay ordered.
 * - A handler that ignores its signal for `flushTimeoutMs` is given up: the Rflushes go out and
 *   its late reply is dropped (flush(5) lets the server answer at once).
 * Rflush is never an error (flush(5)).
 */
import { MsgType, type Rflush, type Tflush } from '@prose/protocol';
import { PENDING } from './reply.js';
import type { Req } from './req.js';
import type { Session } from './session.js';

/** Tflush: Rflush at once for a tag not pending, else wait for the old request (see above). */
export function opFlush(s: Session, r: Req<Tflush>): Rflush | typeof PENDING {
  const old = s.tags.get(r.ifcall.oldtag);
  if (old === undefined || old === r) return { type: MsgType.Rflush, tag: r.tag };
  if (old.flushers === undefined) old.flushers = [r];
  else old.flushers.push(r);
  if (!old.flushed) {
    old.abort();
    const ms = s.opts.flushTimeoutMs;
    if (ms > 0) {
      old.flushTimer = setTimeout(() => giveUp(s, old), ms);
      old.flushTimer.unref();
    }
  }
  return PENDING;
}

function giveUp(s: Session, old: Req): void {
  if (old.done) return;
  s.logger.warn('flushed request did not finish: answering its Rflush without it', {
    session: s.id, tag: old.tag, type: old.type,
  });
  s.finish(old, undefined, true);
}

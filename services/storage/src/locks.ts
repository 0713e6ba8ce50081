/**
 * POSIX advisory byte-range locks (fcntl F_SETLK/F_GETLK semantics), kept by the service for
 * every client: the host's fcntl locks cannot be used, they belong to the service process, so
 * two clients would never conflict.
 *
 * A lock belongs to an owner: the session plus the Tlock's client_id and proc_id (Linux v9fs
 * sends the locking process's pid and the client's node name), so two processes of one client
 * conflict and one process's locks through two fids of the same file merge, as with fcntl. An
 * owner's new lock replaces what it held in that range (splitting or merging ranges); unlocking
 * a sub-range splits. Locks conflict when their owners differ, their ranges overlap and one is a
 * write lock. A lock never waits here: a conflict answers LOCK_BLOCKED and a blocking client
 * (v9fs with F_SETLKW) retries. Closing any fid of an owner on a file releases all that owner's
 * locks on it, as close(2) does; so does the end of the session.
 */
import { LOCK_BLOCKED, LOCK_SUCCESS, LOCK_TYPE_RDLCK, LOCK_TYPE_UNLCK, LOCK_TYPE_WRLCK } from '@prose/protocol';

/** One held lock: [start, end] inclusive (end Infinity = to the end of the file and beyond). */
export interface HeldLock {
  type: number;
  start: number;
  end: number;
  owner: string;
  procId: number;
  clientId: string;
}

/** The range of a Tlock's start and length (length 0: to infinity). */
export function rangeOf(start: number, length: number): { start: number; end: number } {
  return { start, end: length === 0 ? Infinity : start + length - 1 };
}

/** Tgetlock's length for a held range. */
export function lengthOf(l: { start: number; end: number }): number {
  return l.end === Infinity ? 0 : l.end - l.start + 1;
}

export class LockTable {
  /** Held locks per file (key = dev:ino), sorted by owner then start. */
  private readonly files = new Map<string, HeldLock[]>();

  /** Locks held now, on all files (tests). */
  get size(): number {
    let n = 0;
    for (const l of this.files.values()) n += l.length;
    return n;
  }

  /** The locks held on one file (copies, tests). */
  held(file: string): HeldLock[] {
    return (this.files.get(file) ?? []).map((l) => ({ ...l }));
  }

  /** The first lock of another owner that conflicts with `type` over [start, end], or undefined. */
  conflict(file: string, owner: string, type: number, start: number, end: number): HeldLock | undefined {
    const list = this.files.get(file);
    if (list === undefined) return undefined;
    for (const l of list) {
      if (l.owner === owner || l.end < start || l.start > end) continue;
      if (type === LOCK_TYPE_WRLCK || l.type === LOCK_TYPE_WRLCK) return l;
    }
    return undefined;
  }

  /**
   * F_SETLK: sets (RDLCK/WRLCK) or clears (UNLCK) `owner`'s lock over [start, end].
   * Returns LOCK_SUCCESS, or LOCK_BLOCKED when another owner holds a conflicting lock.
   */
  set(file: string, owner: string, type: number, start: number, end: number, procId: number, clientId: string): number {
    if (type !== LOCK_TYPE_UNLCK && this.conflict(file, owner, type, start, end) !== undefined) return LOCK_BLOCKED;
    const list = this.files.get(file) ?? [];
    const out: HeldLock[] = [];
    for (const l of list) {
      if (l.owner !== owner || l.end < start || l.start > end) {
        out.push(l);
        continue;
      }
      // The owner's lock overlaps the new range: keep the parts outside it.
      if (l.start < start) out.push({ ...l, end: start - 1 });
      if (l.end > end) out.push({ ...l, start: end + 1 });
    }
    if (type === LOCK_TYPE_RDLCK || type === LOCK_TYPE_WRLCK) {
      let n: HeldLock = { type, start, end, owner, procId, clientId };
      // Merge with the owner's adjacent locks of the same type.
      for (let i = out.length - 1; i >= 0; i--) {
        const l = out[i]!;
        if (l.owner !== owner || l.type !== type) continue;
        if (l.end !== Infinity && l.end + 1 === n.start) n = { ...n, start: l.start };
        else if (n.end !== Infinity && n.end + 1 === l.start) n = { ...n, end: l.end };
        else continue;
        out.splice(i, 1);
      }
      out.push(n);
    }
    out.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.start - b.start));
    if (out.length === 0) this.files.delete(file);
    else this.files.set(file, out);
    return LOCK_SUCCESS;
  }

  /** Drops every lock `owner` holds on `file` (close of one of its fids, end of its session). */
  releaseOwner(file: string, owner: string): void {
    const list = this.files.get(file);
    if (list === undefined) return;
    const out = list.filter((l) => l.owner !== owner);
    if (out.length === 0) this.files.delete(file);
    else if (out.length !== list.length) this.files.set(file, out);
  }
}

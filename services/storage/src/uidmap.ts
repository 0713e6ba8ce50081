/**
 * Who a client is on the exported file system.
 *
 * Policy "service" (the default): every request runs as the service's own user and the kernel
 * decides, as for any other program of that user. Nothing is checked or mapped here; `resolve`
 * answers undefined.
 *
 * Policy "map": the attach's n_uname (9P2000.u/.L) or uname is looked up in a configured map
 * and the request acts for the mapped local uid, gid and groups. The service does not switch
 * credentials (Node cannot, per request, without seteuid races between concurrent requests):
 * it computes the permission a kernel would from the file's mode bits and owner (`mayAccess`,
 * like Linux's generic_permission without ACLs or capabilities beyond uid 0), refuses what the
 * user may not do, and gives new files to the user (chown after create). The service must run
 * as root for the chown part; the checks work for any service user. Unmapped users are refused
 * at attach unless a `*` entry exists.
 *
 * Map entries (config `uid-map`, one per list element): `NAME=UID:GID[:G1+G2...]` where NAME
 * is a uname, `#N` for n_uname N, or `*` for everyone else.
 */
import { NONUNAME, S_IFMT, S_IFDIR } from '@prose/protocol';

/** The local identity a client acts as. */
export interface User {
  uid: number;
  gid: number;
  /** Supplementary groups (the primary gid is always a member). */
  groups: readonly number[];
}

/** Access bits as in one rwx triple. */
export const MAY_READ = 4;
export const MAY_WRITE = 2;
export const MAY_EXEC = 1;


export type PolicyName = 'service' | 'map';

export class UidPolicy {
  readonly name: PolicyName;
  private readonly byName = new Map<string, User>();
  private readonly byNum = new Map<number, User>();
  private fallback: User | undefined = undefined;

  private constructor(name: PolicyName) {
    this.name = name;
  }

  /** All I/O as the service's user: no checks, no mapping. */
  static service(): UidPolicy {
    return new UidPolicy('service');
  }

  /** A map policy from `NAME=UID:GID[:G1+G2]` entries; throws RangeError naming a bad one. */
  static map(entries: readonly string[]): UidPolicy {
    const p = new UidPolicy('map');
    for (const e of entries) {
      const m = /^([^=]+)=(\d+):(\d+)(?::(\d+(?:\+\d+)*))?$/.exec(e.trim());
      if (!m) throw new RangeError(`uid-map: bad entry ${JSON.stringify(e)} (want NAME=UID:GID[:G1+G2], NAME a uname, #N or *)`);
      const gid = Number(m[3]);
      const groups = [gid, ...(m[4] ? m[4].split('+').map(Number) : [])];
      const u: User = { uid: Number(m[2]), gid, groups: [...new Set(groups)] };
      const key = m[1]!;
      if (key === '*') p.fallback = u;
      else if (key.startsWith('#')) {
        const n = Number(key.slice(1));
        if (!Number.isInteger(n) || n < 0) throw new RangeError(`uid-map: bad n_uname in ${JSON.stringify(e)}`);
        p.byNum.set(n, u);
      } else p.byName.set(key, u);
    }
    return p;
  }

  /** True when the service checks permissions itself. */
  get checks(): boolean {
    return this.name === 'map';
  }

  /**
   * The user an attach acts as: undefined under "service"; under "map" the n_uname entry, else
   * the uname entry, else `*`, else null (refuse the attach).
   */
  resolve(uname: string, nUname: number): User | undefined | null {
    if (this.name === 'service') return undefined;
    if (nUname !== NONUNAME) {
      const u = this.byNum.get(nUname);
      if (u) return u;
    }
    return this.byName.get(uname) ?? this.fallback ?? null;
  }
}

/** What `mayAccess` needs of a stat. */
export interface Perm {
  mode: number;
  uid: number;
  gid: number;
}

/**
 * True when `u` may access a file of this mode and owner with `want` (MAY_* bits), as Linux's
 * generic_permission decides without ACLs: uid 0 may read and write anything and execute what
 * has any x bit (search any directory); otherwise the owner, group or other triple applies,
 * the first that matches.
 */
export function mayAccess(st: Perm, u: User, want: number): boolean {
  const mode = st.mode;
  if (u.uid === 0) {
    if ((want & MAY_EXEC) === 0) return true;
    return (mode & S_IFMT) === S_IFDIR || (mode & 0o111) !== 0;
  }
  let bits: number;
  if (u.uid === st.uid) bits = (mode >> 6) & 7;
  else if (u.groups.includes(st.gid)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  return (bits & want) === want;
}

/** True when `u` owns the file or is uid 0 (may chmod, set times explicitly, ...). */
export function isOwner(st: Perm, u: User): boolean {
  return u.uid === 0 || u.uid === st.uid;
}

/**
 * True when `u` may delete or rename `victim` out of directory `dir`: write and search on the
 * directory, and, if the directory is sticky (S_ISVTX), owning the file or the directory.
 */
export function mayDelete(dir: Perm, victim: Perm, u: User): boolean {
  if (!mayAccess(dir, u, MAY_WRITE | MAY_EXEC)) return false;
  if ((dir.mode & 0o1000) === 0 || u.uid === 0) return true;
  return u.uid === victim.uid || u.uid === dir.uid;
}

/**
 * Version negotiation per version(5): the answer to a Tversion's version string.
 */
import { UNKNOWN_VERSION, VERSION9P } from './constants.js';
import type { Dialect } from './fcall.js';

export interface VersionChoice {
  /** The string to send in Rversion. */
  version: string;
  /** The codec dialect of the session, or undefined when the answer is "unknown". */
  dialect?: Dialect;
  /** The agreed extension suffix (e.g. "prose.1" of "9P2000.L.prose.1"), if any. */
  extension?: string;
}

const DIALECTS: readonly Dialect[] = ['9P2000', '9P2000.u', '9P2000.L'];

/** The dialect a version string names exactly, or undefined. */
export function dialectOf(version: string): Dialect | undefined {
  return (DIALECTS as readonly string[]).includes(version) ? (version as Dialect) : undefined;
}

/**
 * Chooses the reply to a client's version string.
 * - An exact supported dialect is accepted as is.
 * - `<dialect>.<ext>` is accepted whole when `<dialect>` is supported and `<ext>` is one of
 *   `extensions`.
 * - Otherwise period-separated suffixes are stripped from the right until a supported dialect
 *   remains ("9P2000.L.Google.3" → "9P2000.L" → "9P2000").
 * - A bare `9Pnnnn` with nnnn ≥ 2000 may be answered "9P2000" (digits ≤ the client's).
 * - Anything else, and strings not starting "9P", get "unknown".
 */
export function chooseVersion(client: string, supported: readonly Dialect[], extensions: readonly string[] = []): VersionChoice {
  if (!client.startsWith('9P')) return { version: UNKNOWN_VERSION };
  for (const ext of extensions) {
    for (const d of supported) {
      if (client === `${d}.${ext}`) return { version: client, dialect: d, extension: ext };
    }
  }
  let v = client;
  for (;;) {
    const d = dialectOf(v);
    if (d && supported.includes(d)) return { version: d, dialect: d };
    const dot = v.lastIndexOf('.');
    if (dot < 0) break;
    v = v.slice(0, dot);
  }
  const m = /^9P(\d+)$/.exec(v);
  if (m && Number(m[1]) >= 2000 && supported.includes(VERSION9P)) return { version: VERSION9P, dialect: VERSION9P };
  return { version: UNKNOWN_VERSION };
}

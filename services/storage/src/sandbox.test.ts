/**
 * The handle registry: every live Handle is found by its file's identity, whether the file has
 * one handle (kept as itself) or several (kept in a Set), so a rename re-points them all and a
 * release forgets exactly the one released.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fstat } from '@prose/posix';
import * as sandbox from './sandbox.js';
import { Handle, HandleRegistry, O_PATH, fileKey } from './sandbox.js';

let base: string;
const opened: Handle[] = [];

beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'prose-sandbox-'));
  fs.mkdirSync(path.join(base, 'a'));
  fs.mkdirSync(path.join(base, 'b'));
  fs.writeFileSync(path.join(base, 'a', 'f'), 'x');
  fs.writeFileSync(path.join(base, 'a', 'g'), 'y');
});

afterEach(() => {
  for (const h of opened.splice(0)) while (h.fd >= 0) h.release();
  fs.rmSync(base, { recursive: true, force: true });
});

/** A Handle on `rel` under the test directory (its own O_PATH descriptor), registered in `reg`. */
function handle(reg: HandleRegistry, rel: string, parent?: Handle): Handle {
  const fd = fs.openSync(path.join(base, rel), O_PATH | fs.constants.O_NOFOLLOW);
  const h = new Handle(reg, fd, fstat(fd), parent, path.basename(rel));
  opened.push(h);
  return h;
}

test('one, two and three handles on a file are all counted and each release forgets only its own', () => {
  const reg = new HandleRegistry();
  const dir = handle(reg, 'a');
  const f1 = handle(reg, 'a/f', dir);
  expect(reg.size).toBe(2);
  const f2 = handle(reg, 'a/f', dir);
  const f3 = handle(reg, 'a/f', dir);
  expect(f1.key).toBe(f2.key);
  expect(f1.key).toBe(fileKey(f1.dev, f1.ino));
  expect(reg.size).toBe(4);
  f2.release();
  expect(f2.fd).toBe(-1);
  expect(reg.size).toBe(3);
  f1.release();
  expect(reg.size).toBe(2);
  f3.release();
  expect(reg.size).toBe(1);
  // A handle on another file is unaffected by all of that.
  const g = handle(reg, 'a/g', dir);
  expect(reg.size).toBe(2);
  g.release();
  dir.release();
  expect(reg.size).toBe(0);
});

test('renamed re-points every live handle that knew the old place, alone or with others', () => {
  const reg = new HandleRegistry();
  const a = handle(reg, 'a');
  const b = handle(reg, 'b');
  const lone = handle(reg, 'a/g', a);
  const f1 = handle(reg, 'a/f', a);
  const f2 = handle(reg, 'a/f', a);
  fs.renameSync(path.join(base, 'a', 'f'), path.join(base, 'b', 'h'));
  reg.renamed(f1.key, a, 'f', b, 'h');
  for (const h of [f1, f2]) expect([h.parent, h.name]).toEqual([b, 'h']);
  expect(f1.located()).toEqual({ dir: b, name: 'h' });
  fs.renameSync(path.join(base, 'a', 'g'), path.join(base, 'a', 'k'));
  reg.renamed(lone.key, a, 'g', a, 'k');
  expect([lone.parent, lone.name]).toEqual([a, 'k']);
  expect(lone.located()).toEqual({ dir: a, name: 'k' });
  // A rename of some other place with the same name leaves these alone.
  reg.renamed(lone.key, b, 'k', b, 'z');
  expect(lone.name).toBe('k');
});

/** sandbox.ts loaded afresh where the @prose/posix addon cannot load (its /proc/self/fd path). */
function withoutAddon(check: (fresh: typeof sandbox) => void): void {
  const old = process.env.PROSE_POSIX_ADDON;
  process.env.PROSE_POSIX_ADDON = '/nonexistent/prose_posix.node';
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      check(require('./sandbox.js') as typeof sandbox);
    });
  } finally {
    if (old === undefined) delete process.env.PROSE_POSIX_ADDON;
    else process.env.PROSE_POSIX_ADDON = old;
  }
}

test('tryOpenIn answers a descriptor or the negative errno, with the addon and without it', () => {
  const E = os.constants.errno;
  const check = (sb: typeof sandbox) => {
    const dirfd = fs.openSync(path.join(base, 'a'), O_PATH | fs.constants.O_DIRECTORY);
    try {
      const fd = sb.tryOpenIn(dirfd, 'f', fs.constants.O_RDONLY);
      expect(fd).toBeGreaterThanOrEqual(0);
      expect(fs.readFileSync(fd, 'utf8')).toBe('x');
      fs.closeSync(fd);
      expect(sb.tryOpenIn(dirfd, 'missing', O_PATH | fs.constants.O_NOFOLLOW)).toBe(-E.ENOENT);
      expect(sb.tryOpenIn(dirfd, 'f', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY)).toBe(-E.ENOTDIR);
    } finally {
      fs.closeSync(dirfd);
    }
  };
  check(sandbox);
  withoutAddon(check);
});

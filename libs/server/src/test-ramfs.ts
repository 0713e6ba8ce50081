/**
 * The example ramfs (lib9p ramfs.c in spirit), built on the framework: a Tree whose directories
 * create files and directories, and whose files keep their bytes in memory. Everything else —
 * walk, stat, listings in all dialects, open modes and permissions, ORCLOSE, remove, rename and
 * truncate by wstat or setattr, .L lopen/lcreate/mkdir/unlinkat/renameat — comes from the
 * framework and the Tree. Not part of the build: used by the tests and the conformance suite.
 */
import { DMDIR, Errno, NinepError } from '@prose/protocol';
import { DirNode, FileNode, type DirOptions, type Node } from './node.js';
import { readBuf } from './read-helpers.js';
import { Tree } from './tree.js';

/** The largest file a ramfs keeps: a write or truncate beyond is "file too large" (EFBIG). */
export const MAX_RAM_FILE = 16 << 20;

/** A file holding its bytes (initially `content`): `buf` has room, `len` is the file's length. */
export function ramFile(name: string, content = ''): FileNode {
  let buf = Buffer.from(content);
  let len = buf.length;
  const resize = (n: number) => {
    if (n > MAX_RAM_FILE) throw NinepError.errno(Errno.EFBIG);
    if (n > buf.length) {
      const b = Buffer.alloc(Math.max(n, buf.length * 2, 64));
      buf.copy(b, 0, 0, len);
      buf = b;
    } else if (n < len) buf.fill(0, n, len);
    len = n;
  };
  const node: FileNode = new FileNode(name, {
    read: (_h, offset, count) => readBuf(offset, count, buf.subarray(0, len)),
    write: (h, offset, data) => {
      const end = offset + data.length;
      if (end > len) resize(end);
      data.copy(buf, offset);
      node.touch(h.uname);
      return data.length;
    },
    truncate: (h, n) => {
      resize(n);
      node.touch(h.uname);
    },
    length: () => len,
  });
  return node;
}

/** Directories of a ramfs create files and directories like themselves. */
export const ramDir: DirOptions = {
  create: (_dir, name, perm): Node => (perm & DMDIR ? new DirNode(name, [], ramDir) : ramFile(name)),
};

/** A ramfs rooted at "/" (mode 0777, owner `uid`), plus any `children` given. */
export function ramfs(uid = 'glenda', children: Node[] = []): { tree: Tree; root: DirNode } {
  const root = new DirNode('/', children, { ...ramDir, perm: 0o777, uid });
  return { tree: new Tree(root), root };
}

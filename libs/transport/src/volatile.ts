/**
 * Volatile memory: Buffers whose bytes may become unreadable — a file mapping (@prose/posix
 * filemap.ts) whose file is truncated — and that user code must therefore never read. A sender
 * marks such memory once (by its ArrayBuffer, so every view of it counts) with a function that
 * copies a view of it safely (through the kernel). A Conn whose `volatileParts` is true takes
 * such parts in `send`: it lets only the kernel's socket write read them, and a part it cannot
 * write at once is replaced by its safe copy before it waits in a queue, so nothing is read
 * from a mapping later, when a truncation is likelier; a write the kernel refuses for a
 * vanished page (EFAULT) is retried with the copies. Other Conns must never be given them.
 */

/**
 * Makes a safe copy of a volatile view (see the module doc), or undefined when it cannot: the
 * Conn then closes with an error rather than send bytes it could not read.
 */
export type VolatileCopier = (view: Buffer) => Buffer | undefined;

const copiers = new WeakMap<ArrayBufferLike, VolatileCopier>();
let marked = false;

/** Marks the memory of `buf` (its whole ArrayBuffer) volatile, with the function that copies a view of it. */
export function markVolatile(buf: Buffer, copy: VolatileCopier): void {
  copiers.set(buf.buffer, copy);
  marked = true;
}

/** The copier of `buf`'s memory when it is volatile, else undefined. Cheap while nothing was ever marked. */
export function volatileCopier(buf: Buffer): VolatileCopier | undefined {
  return marked ? copiers.get(buf.buffer) : undefined;
}

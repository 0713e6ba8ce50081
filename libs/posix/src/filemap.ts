/**
 * File memory that only the kernel reads: a read-only shared mapping of a file, whose bytes a
 * server hands to a socket write as they are. The usual way to serve a read copies the data
 * twice on the server (pread(2) from the page cache into a buffer, then the socket write out of
 * it); from a mapping the socket write copies straight from the page cache, once. Measured on a
 * 2-vCPU VM, both ends on one CPU, 256 MiB in 1 MiB messages over loopback TCP, C on both sides:
 * pread + writev 148–170 ms, the server 85–103 ms of CPU; mapping + writev 82–92 ms, 44–49 ms.
 *
 * The danger of a mapping is a file truncated under it: a user-mode read of a page past the new
 * end is SIGBUS, which kills the process. So the bytes are never read in user mode: the kernel's
 * socket write meets the missing page as EFAULT (a short write, no signal), and `copyMapped`,
 * for what must be kept, copies through the kernel too (process_vm_readv(2) on this process)
 * and puts zeros where the file ends.
 *
 * Mappings go into an arena: address space reserved once (`reserveArena`), one Buffer kept by
 * its user (collected, it is unmapped), into whose page-aligned ranges files are mapped and unmapped
 * (`mapInto`, `unmapFrom`). A Buffer per mapping would be one more ArrayBuffer of tens of
 * megabytes for V8 to account each time, and V8 answers external memory of that size with
 * full garbage collections (21 of them in 1.5 GiB of reads, a fifth of the server's CPU).
 */
import { addonWith } from './native.js';

/** The addon's mapping calls, all present. */
export interface FileMap {
  /** A Buffer over `length` bytes of reserved address space (no access) to map files into, or -errno. */
  reserveArena(length: number): Buffer | number;
  /** Maps `length` bytes of `fd` from `offset` read-only over arena[at, at+length) (all page-aligned), or -errno (the range is then reserved again). */
  mapInto(arena: Buffer, at: number, fd: number, offset: number, length: number): number;
  /** arena[at, at+length) reserved again (the file it mapped is let go), or -errno. */
  unmapFrom(arena: Buffer, at: number, length: number): number;
  /** 1 when every page under buf[start, start+length) is in memory, 0 when not, or -errno. */
  residentPages(buf: Uint8Array, start: number, length: number): number;
  /** A copy of buf[start, start+length) made by the kernel, and how many bytes it could read (zeros after them), or -errno. */
  copyMapped(buf: Uint8Array, start: number, length: number): [Buffer, number] | number;
}

let maps: FileMap | null | undefined;

/**
 * The mapping calls, or undefined where the addon lacks them or this process may not copy its
 * own memory through the kernel (process_vm_readv refused, as some seccomp profiles do): without
 * that copy a mapping could not be kept safely, so none is made.
 */
export function fileMap(): FileMap | undefined {
  if (maps === undefined) {
    maps = null;
    const a = addonWith<FileMap>(['reserveArena', 'mapInto', 'unmapFrom', 'residentPages', 'copyMapped']);
    if (a !== undefined) {
      const probe = Buffer.from('probe');
      const r = a.copyMapped(probe, 0, probe.length);
      if (typeof r !== 'number' && r[1] === probe.length && r[0].equals(probe)) maps = a;
    }
  }
  return maps ?? undefined;
}

/**
 * The storage service mounted by the Linux kernel's v9fs client (issue 5), in a QEMU guest:
 * an ordinary user runs mkdir -p, echo/cat, >>, cp, mv, ln -s/readlink, chmod/stat, truncate,
 * a 1 MiB dd read back (sha256/md5 against the host's), tar c/x, ls -la and rm -r, once with
 * version=9p2000.L and once with version=9p2000.u (msize=1048576); then the export directory is
 * checked on the host. See harness.ts for how the guest reaches the service (Unix socket and a
 * virtio-serial port only, no network).
 *
 * Skips (with the reason) when qemu-system-x86_64, a kernel with its modules, or a static
 * busybox is missing: apt-get install qemu-system-x86 linux-image-amd64 busybox-static.
 * Needs `npx tsc -b` (services/storage/dist). PROSE_V9FS_TRACE=1 runs the service with -D and
 * prints its 9P trace on failure; PROSE_V9FS_VERBOSE=1 echoes the guest console.
 */
import { haveDiod } from '../support/diod.js';
import { checkHost, findTools, runGuest, summarize, type GuestRun } from './harness.js';

const tools = findTools();
const skip = 'skip' in tools ? tools.skip : undefined;
if (skip) console.warn(`v9fs kernel-mount test SKIPPED: ${skip}`);
const d = skip ? describe.skip : describe;
const TIMEOUT_MS = Number(process.env.PROSE_V9FS_TIMEOUT ?? 120) * 1000;

// The same workload against the real diod (.L only) validates the harness and the expectations.
const cases = [
  { server: 'storage' as const, version: '9p2000.L' as const },
  { server: 'storage' as const, version: '9p2000.u' as const },
  ...(haveDiod() && process.getuid?.() === 0 ? [{ server: 'diod' as const, version: '9p2000.L' as const }] : []),
];

d('storage mounted by the Linux kernel (v9fs in QEMU)', () => {
  for (const { server, version } of cases) {
    test(
      `${server} ${version}, msize=1048576: an ordinary user's workload behaves as on a local disk`,
      async () => {
        if ('skip' in tools) return;
        const run: GuestRun = await runGuest(tools, {
          server,
          version,
          msize: 1048576,
          timeoutMs: TIMEOUT_MS,
          trace: process.env.PROSE_V9FS_TRACE === '1',
          onLine: process.env.PROSE_V9FS_VERBOSE === '1' ? (l) => process.stdout.write(`[${version}] ${l}\n`) : undefined,
        });
        const report = summarize(run);
        console.log(report);
        const hostBad = checkHost(run);
        const problems = [
          ...(run.timedOut ? [`guest did not finish in ${TIMEOUT_MS} ms`] : []),
          ...(run.end !== 0 ? [`/init ended with ${run.end ?? 'nothing'}`] : []),
          ...(run.mounted ? [] : ['the mount failed']),
          ...(run.workload ? [] : ['the workload did not finish']),
          ...run.steps.filter((s) => !s.pass).map((s) => `step ${s.name}: ${s.detail}`),
          ...(run.coldSha256 === run.big.sha256 ? [] : [`cold re-read sha256 ${run.coldSha256} != host ${run.big.sha256}`]),
          ...hostBad.map((b) => `host: ${b}`),
        ];
        if (problems.length > 0) {
          const tail = run.console.split('\n').slice(-60).join('\n');
          const trace = run.serviceLog ? `\n--- service stderr (tail)\n${run.serviceLog.slice(-6000)}` : '';
          throw new Error(`${problems.join('\n')}\n\n${report}\n--- console (tail)\n${tail}${trace}`);
        }
        expect(run.workload!.fail).toBe(0);
        expect(run.steps.length).toBeGreaterThanOrEqual(40);
      },
      TIMEOUT_MS + 30000,
    );
  }
});

/**
 * The environment a mesh process should start with (it cannot change it for itself once
 * running): what the launchers of the mesh (`make run`, the tests' and benchmarks' spawners)
 * give every Node process they start, and what a deployment should set (deploy/README.md).
 *
 * `MALLOC_ARENA_MAX=1`: glibc gives each thread that mallocs an arena of its own, reserved 64
 * MiB-aligned, and a Node process has about eight such threads (V8's platform workers, libuv's
 * pool, worker threads). On the 2-vCPU VMs the project is measured on, where V8 then happened to
 * place its code range (its top end just under one of those 64 MiB boundaries, in some 45% of
 * processes) set the process's speed for its whole life: 64 B Twrite round trips over shared
 * memory between two threads of one process took 6.5–7.3 µs in those and 5.4–5.7 in the others,
 * and a TCP round trip between our client and server processes 12.0–12.2 µs instead of 10.0–10.3
 * in about 40% of pairs (test/bench/layout.ts has the measurements). With one arena: 28 of 28
 * single processes fast (5.5–5.9 µs), 30 of 32 TCP pairs fast, 40 of 43 pairs over shared
 * memory between processes fast (6.1–6.4 µs; three at 7.3–7.5). The arena is one lock for every thread's malloc; in a Node
 * process nearly all allocation is V8's own heap, and the figures above include that cost.
 * diod (C, a thread per worker) measured the same with and without it.
 */
export const MESH_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '1' });

/** `env` (default this process's) with MESH_ENV's variables added where `env` does not set them. */
export function meshEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...MESH_ENV, ...env };
}

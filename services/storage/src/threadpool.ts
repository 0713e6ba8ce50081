/**
 * Sizes libuv's thread pool before anything uses it (it is created on first use): reads,
 * writes, fsyncs and blocking opens of the export run there, at most this many at once.
 * Import this module first. `UV_THREADPOOL_SIZE` from the environment wins; default 16
 * (as diod's 16 worker threads).
 */
export const THREADPOOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE ?? '16');
process.env.UV_THREADPOOL_SIZE = String(THREADPOOL_SIZE);

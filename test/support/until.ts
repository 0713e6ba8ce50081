/**
 * Polls `fn` every 50 ms until it is true; throws "timed out waiting for <what>" after `ms`.
 * Resolves with the milliseconds it took.
 */
export async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 10000): Promise<number> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

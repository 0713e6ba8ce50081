/** layoutOf: where a process's libc and V8's builtins copy begin, modulo 64 MiB (see layout.ts). */
import { spawn } from 'node:child_process';
import { formatLayout, layoutOf } from './layout.js';

test("this process's libc offset is within one 64 MiB period, and so is V8's builtins copy when there is one", () => {
  const l = layoutOf('self');
  expect(l.libc).toBeGreaterThanOrEqual(0);
  expect(l.libc).toBeLessThan(64);
  if (l.builtins !== undefined) {
    expect(l.builtins).toBeGreaterThanOrEqual(0);
    expect(l.builtins).toBeLessThan(64);
  }
  expect(formatLayout(l)).toMatch(/^libc [\d.]+ builtins ([\d.]+|-)$/);
  expect(formatLayout({})).toBe('libc ? builtins -');
});

test("another process's offset is read from its maps, and a process that is gone has none", async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const slot = layoutOf(child.pid!).libc;
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(slot).toBeLessThan(64);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  expect(layoutOf(child.pid!)).toEqual({});
});

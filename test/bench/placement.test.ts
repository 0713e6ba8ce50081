/**
 * Placements of the benchmark suites: pinning the driver, and the idle-poll placement's CPU
 * latency request (PM QoS, /dev/cpu_dma_latency), which must be in force exactly while the
 * placement lasts. Where the device cannot be written (not root, no such device) the placement
 * must be refused with the reason; the test checks whichever of the two this machine gives.
 */
import * as os from 'node:os';
import { currentAffinity, cpuLatencyBoundUs, defaultPlacements, enterPlacement, haveTaskset, idlePollUnavailable, inPlacements, leavePlacement } from './placement.js';

afterEach(() => leavePlacement());

test('unpinned-idle-poll holds a 0 µs CPU latency request until the placement is left, or is skipped with the reason', () => {
  const unavailable = idlePollUnavailable();
  const at = enterPlacement('unpinned-idle-poll');
  if (unavailable !== undefined) {
    expect(at).toEqual({ skip: expect.stringContaining('/dev/cpu_dma_latency') });
    return;
  }
  expect(at).toEqual({ cpus: undefined });
  expect(cpuLatencyBoundUs()).toBe(0);
  leavePlacement();
  // Other processes may hold requests of their own; ours, at least, is gone: the bound is the
  // kernel's default again unless someone else asks for 0 too.
  const after = cpuLatencyBoundUs();
  expect(after).toBeGreaterThan(0);
});

test('idle polling is never a default placement (it changes how the whole machine idles)', () => {
  expect(defaultPlacements()).toEqual(['same-cpu', 'unpinned']);
});

test('entering another placement drops the latency request of the last one', () => {
  if (idlePollUnavailable() !== undefined) return; // covered by the test above
  enterPlacement('unpinned-idle-poll');
  expect(cpuLatencyBoundUs()).toBe(0);
  expect(enterPlacement('unpinned')).toEqual({ cpus: undefined });
  expect(cpuLatencyBoundUs()).toBeGreaterThan(0);
});

test('same-cpu pins the driver to CPU 0 and leaving unpins it', () => {
  expect(enterPlacement('same-cpu')).toEqual({ cpus: '0' });
  if (!haveTaskset()) return;
  expect(currentAffinity()).toBe('0');
  leavePlacement();
  if (os.cpus().length > 1) expect(currentAffinity()).not.toBe('0');
});

test('inPlacements runs the body in each placement, logs a skipped one, and leaves even when the body throws', async () => {
  const seen: string[] = [];
  const logged: string[] = [];
  await inPlacements(['same-cpu', 'unpinned-idle-poll', 'unpinned'], (l) => logged.push(l), async (p, cpus) => {
    seen.push(`${p}:${cpus ?? '-'}`);
    if (p === 'unpinned-idle-poll') expect(cpuLatencyBoundUs()).toBe(0);
  });
  const idle = idlePollUnavailable() === undefined;
  expect(seen).toEqual(idle ? ['same-cpu:0', 'unpinned-idle-poll:-', 'unpinned:-'] : ['same-cpu:0', 'unpinned:-']);
  expect(logged).toEqual(idle ? [] : [expect.stringMatching(/^unpinned-idle-poll: skipped \(\/dev\/cpu_dma_latency: /)]);
  if (!idle) return;
  await expect(inPlacements(['unpinned-idle-poll'], () => {}, async () => {
    throw new Error('run failed');
  })).rejects.toThrow('run failed');
  expect(cpuLatencyBoundUs()).toBeGreaterThan(0);
});

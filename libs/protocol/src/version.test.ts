import { chooseVersion } from './version.js';
import type { Dialect } from './fcall.js';

const all: Dialect[] = ['9P2000', '9P2000.u', '9P2000.L'];

test.each([
  ['9P2000', all, '9P2000'],
  ['9P2000.u', all, '9P2000.u'],
  ['9P2000.L', all, '9P2000.L'],
  ['9P2000.L.Google.3', all, '9P2000.L'],
  ['9P2000.u', ['9P2000', '9P2000.L'], '9P2000'],
  ['9P2000.L', ['9P2000'], '9P2000'],
  ['9P2001', all, '9P2000'],
  ['9P1999', all, 'unknown'],
  ['9P', all, 'unknown'],
  ['', all, 'unknown'],
  ['X9P2000', all, 'unknown'],
  ['9P2000.L', ['9P2000.u'], 'unknown'],
] as const)('version(5): %s offered to %j is answered %s', (client, supported, answer) => {
  expect(chooseVersion(client, supported as Dialect[]).version).toBe(answer);
});

test('an agreed extension keeps its suffix and names the dialect', () => {
  expect(chooseVersion('9P2000.L.prose.1', all, ['prose.1'])).toEqual({ version: '9P2000.L.prose.1', dialect: '9P2000.L', extension: 'prose.1' });
  expect(chooseVersion('9P2000.L.prose.2', all, ['prose.1'])).toEqual({ version: '9P2000.L', dialect: '9P2000.L' });
});

/** The plumbing views: `view`, `viewAt` and `Writer.view` share memory and read as Buffers. */
import { Writer, view, viewAt } from './wire.js';

test('view and viewAt are Buffers over the same memory', () => {
  const b = Buffer.from('abcdefgh');
  const v = view(b, 2, 5);
  expect(Buffer.isBuffer(v)).toBe(true);
  expect(v.toString()).toBe('cde');
  const w = viewAt(b.buffer, b.byteOffset + 2, 3);
  expect(w.toString()).toBe('cde');
  b[2] = 0x43; // 'C'
  expect(v.toString()).toBe('Cde');
  expect(w.readUInt8(0)).toBe(0x43);
});

test('Writer.view follows the buffer when it grows', () => {
  const w = new Writer(8);
  w.u32(0x64636261); // 'abcd'
  const before = w.view(0, 4);
  for (let i = 0; i < 100; i++) w.u8(0x30 + (i % 10)); // grows past 8 bytes
  const after = w.view(0, 14);
  expect(after.toString()).toBe('abcd0123456789');
  expect(after.buffer).toBe(w.buf.buffer);
  expect(before.toString()).toBe('abcd'); // the old memory, as it was
});

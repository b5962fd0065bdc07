import { randomUUID } from 'node:crypto';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { holdNamesOneByte } from '../../gateway/one-byte-names.js';

/**
 * V8's own serializer says how a string is stored: after its two-byte header, a one-byte string is
 * tagged `"`, a two-byte one `c` (after a padding byte, 0, when it needs alignment).
 */
function storedTwoByte(text: string): boolean {
  const bytes = serialize(text);
  let at = 2;
  while (bytes[at] === 0) at++;
  return bytes[at] === 'c'.charCodeAt(0);
}

/** `name` as the supergraph printed by Apollo's federation code holds it: ASCII in two-byte storage. */
function twoByteCopyOf(name: string): string {
  const copy = `\u2013${name}`.slice(1);
  expect(storedTwoByte(copy)).toBe(true);
  return copy;
}

describe('holdNamesOneByte', () => {
  // Names no other test uses: the string table is the process's, shared by every test in it.
  const fresh = () => `probe${randomUUID().replaceAll('-', '')}`;

  it('should keep an answer one-byte when its keys first came from a two-byte text', () => {
    const held = fresh();
    holdNamesOneByte(`type Query { ${held}: String }`);
    const answer = JSON.stringify({ data: { [twoByteCopyOf(held)]: 'x'.repeat(100) } });
    expect(storedTwoByte(answer)).toBe(false);
  });

  it('should be needed: a name first used from a two-byte text makes the whole answer two-byte', () => {
    const notHeld = fresh();
    const answer = JSON.stringify({ data: { [twoByteCopyOf(notHeld)]: 'x'.repeat(100) } });
    expect(storedTwoByte(answer)).toBe(true);
  });

  it('should hold one-byte copies of the names of a two-byte SDL (a description beyond Latin-1)', () => {
    const held = fresh();
    holdNamesOneByte(`"""Answers \u2013 all of them"""\ntype Query { ${held}: String }`);
    const answer = JSON.stringify({ data: { [twoByteCopyOf(held)]: 1 } });
    expect(storedTwoByte(answer)).toBe(false);
  });
});

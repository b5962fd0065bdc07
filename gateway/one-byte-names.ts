/**
 * The supergraph's names, held as one-byte strings before any schema is built (issue 17, target 2).
 *
 * V8 keeps one copy of every string used as a property name (the internalized string table), in
 * whichever representation the first use had. `@apollo/federation-internals` prints the supergraph
 * it loads and parses it again, and its printed text is a two-byte string (ASCII content, UTF-16
 * storage: V8 does not narrow a string after the fact). If that parse is the first to use a field
 * name as a property name, the name stays two-byte for the life of the process, every answer's
 * keys are those names, and `JSON.stringify` then writes the whole answer two bytes per character:
 * the benchmark's 87 KB answer became a 175 KB string, past V8's largest young-generation object,
 * so each one went straight to the large-object space and stayed there, as garbage, until the
 * next full collection (tens of MB at 2,000 requests/s). Made one-byte first, the later lookups of
 * the same names find these copies, and an answer is one byte per character again.
 */

const NAME = /[_A-Za-z][_0-9A-Za-z]*/g;

/** Keeps the names referenced: the string table is weak, an unreferenced entry can be dropped. */
const held = new Map<string, Record<string, true>>();

/**
 * Makes every GraphQL name in `sdl` a one-byte internalized string, unless an earlier use already
 * made it (then nothing changes for that name). Call it before anything builds a schema from `sdl`.
 * GraphQL names are ASCII by the spec, so a Latin-1 round trip gives a one-byte copy even when
 * `sdl` itself is stored two-byte (a description with a character beyond Latin-1).
 */
export function holdNamesOneByte(sdl: string): void {
  if (held.has(sdl)) return;
  const names: Record<string, true> = Object.create(null) as Record<string, true>;
  for (const name of new Set(sdl.match(NAME) ?? []))
    names[Buffer.from(name, 'latin1').toString('latin1')] = true;
  held.set(sdl, names);
}

const keys = new WeakMap<object, string>();
let numbered = 0;

/**
 * A short key naming one object for as long as it lives (held weakly): for map keys that would
 * otherwise copy what the object was made from. The gateway names a parsed document by it in its
 * permission plans and coalescing keys instead of the query's text, which every request copied
 * whole into each key (the gateway benchmark's query is 1 KB) for the map to hash (issue 17,
 * target 2). The pipeline's parse cache gives one document per text; a text parsed again gets a new
 * key, so a lookup misses (the same plan computed once more, a sharing missed), never matches
 * another text's.
 */
export function objectKey(object: object): string {
  let key = keys.get(object);
  if (key === undefined) {
    key = String(++numbered);
    keys.set(object, key);
  }
  return key;
}

import type { World } from './world.js';

/**
 * A view a sandbox computes from the world (a filtered listing, an index), computed again only
 * after the world changed: cheap on every request, and never stale after a change.
 */
export function derived<T>(world: World, compute: () => T): () => T {
  let revision = -1;
  let value: T | undefined;
  return () => {
    if (value === undefined || revision !== world.revision) {
      value = compute();
      revision = world.revision;
    }
    return value;
  };
}

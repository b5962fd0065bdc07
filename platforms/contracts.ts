import type { AnyPlatformContract } from './kit/contract.js';
import { PLATFORMS } from './registry.js';

/**
 * Each platform client's contract (`platforms/<name>/contract.ts`, reached by its descriptor's
 * `contract`): the calls it makes and the shapes it must hand back, run against the sandboxes in
 * `npm test` and against the real platforms by `npm run test:live`. Loaded here, apart from the
 * registry's users: nothing at run time reads it.
 */
export const PLATFORM_CONTRACTS: readonly AnyPlatformContract[] = await Promise.all(
  PLATFORMS.flatMap((platform) => (platform.contract ? [platform.contract()] : [])),
);

import type { AnyPlatformContract } from './kit/contract.js';
import { hubspotContract } from './hubspot/contract.js';
import { mailchimpContract } from './mailchimp/contract.js';
import { metaContract } from './meta/contract.js';
import { shopifyContract } from './shopify/contract.js';
import { twilioContract } from './twilio/contract.js';

/**
 * Each platform client's contract (`platforms/<name>/contract.ts`): the calls it makes and the
 * shapes it must hand back, run against the sandboxes in `npm test` and against the real
 * platforms by `npm run test:live`. Kept apart from the registry: nothing at run time reads it.
 */
export const PLATFORM_CONTRACTS: readonly AnyPlatformContract[] = [
  hubspotContract,
  mailchimpContract,
  shopifyContract,
  metaContract,
  twilioContract,
];

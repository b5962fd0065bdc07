import type { Random } from './random.js';
import type { World } from './world.js';

/**
 * How the demo company's campaign links are tagged, by the channel that carries them: its paid
 * social ads and its emails. These are data, the values real links carry (`utm_source=mailchimp`
 * is what the email platform's link tracking writes), not a dependency on a platform; one place
 * for the seeded orders and the live traffic alike.
 */
const CHANNELS = {
  paidSocial: { source: 'facebook', medium: 'paid_social', referrer: 'https://l.facebook.com/' },
  email: { source: 'mailchimp', medium: 'email', referrer: '' },
} as const;
const CONTENT = ['hero', 'carousel', 'cta'] as const;

export interface CampaignLink {
  /** `?utm_source=…&utm_medium=…&utm_campaign=<key>&utm_content=…`. */
  query: string;
  /** The referrer a visit through it arrives with (`''` for an email client). */
  referrer: string;
}

/** A link to the shop in one of a campaign's ads (six in ten) or emails. */
export function campaignLink(random: Random, key: string): CampaignLink {
  const channel = random.chance(0.6) ? CHANNELS.paidSocial : CHANNELS.email;
  return {
    query: `?utm_source=${channel.source}&utm_medium=${channel.medium}&utm_campaign=${key}&utm_content=${random.pick(CONTENT)}`,
    referrer: channel.referrer,
  };
}

/**
 * A visit through a link of one of the world's campaigns, with the probability `tagged` (untagged
 * visits come from bookmarks and search); undefined for an untagged one. @default tagged 0.6
 */
export function campaignVisit(world: World, random: Random, tagged = 0.6): CampaignLink | undefined {
  if (!random.chance(tagged) || world.campaigns.length === 0) return undefined;
  return campaignLink(random, random.pick(world.campaigns).key);
}

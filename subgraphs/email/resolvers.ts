import type { EmailMember } from '../../platforms/mailchimp/client/records.js';
import { isCalendarDate } from '../../lib/dates.js';
import { badUserInput } from '../../lib/errors.js';
import { dateRange } from '../../lib/graphql/date-range.js';
import { DateScalar, DateTimeScalar } from '../../lib/graphql/scalars.js';
import type { EmailContext } from './context.js';
import type { CampaignPerformanceModel, CustomerModel } from './mappers.js';
import { emailPerformance } from './performance.js';
import type { Resolvers } from './__generated__/resolvers-types.js';

const newestFirst = (a: { sentAt: string; id: string }, b: { sentAt: string; id: string }) =>
  Date.parse(b.sentAt) - Date.parse(a.sentAt) || a.id.localeCompare(b.id);

/** A day from an entity representation, where scalars arrive unparsed, checked like a `Date`. */
function calendarDay(name: 'since' | 'until', value: unknown): string {
  if (typeof value === 'string' && isCalendarDate(value)) return value;
  throw badUserInput(`\`${name}\` must be a calendar day written as YYYY-MM-DD.`, name);
}

function performanceOf(reference: {
  key?: unknown;
  since?: unknown;
  until?: unknown;
}): CampaignPerformanceModel {
  if (typeof reference.key !== 'string' || reference.key === '')
    throw badUserInput('`key` must be a non-empty campaign key.', 'key');
  const range = dateRange(calendarDay('since', reference.since), calendarDay('until', reference.until));
  return { key: reference.key, ...range };
}

/**
 * The audience member of a customer: null when the address is not in the audience or there is no
 * address (nulls, not errors). Both fields of every customer in the request share one loader.
 */
function memberOf(customer: CustomerModel, context: EmailContext): Promise<EmailMember | null> {
  return customer.email ? context.loaders.memberByEmail.load(customer.email) : Promise.resolve(null);
}

export const resolvers: Resolvers = {
  Date: DateScalar,
  DateTime: DateTimeScalar,
  Query: {
    async emailCampaigns(_parent, args, context) {
      const range = dateRange(args.since, args.until);
      const campaigns = await context.loaders.campaignsInRange.load(range);
      return [...campaigns].sort(newestFirst);
    },
  },
  Customer: {
    // No platform call here: a failed read then nulls only the fields that needed it (see memberOf).
    __resolveReference: (reference): CustomerModel => ({ email: reference.email ?? null }),
    emailSubscription: (customer, _args, context) => memberOf(customer, context),
    emailEngagement: (customer, _args, context) => memberOf(customer, context),
  },
  CampaignPerformance: {
    __resolveReference: (reference) => performanceOf(reference),
    async email(performance, _args, context) {
      const campaigns = await context.loaders.campaignsInRange.load(performance);
      return emailPerformance(campaigns, performance.key, performance.since, performance.until);
    },
  },
};

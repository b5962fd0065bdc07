import { ROLE_PAGE_SIZES } from '../__generated__/vocabulary.js';
import { badUserInput } from '../errors.js';

/**
 * The largest page each list argument accepts, by schema coordinate (`Type.field(argument:)`). One
 * table for both layers: the subgraph resolvers refuse a value outside it, and the gateway refuses
 * it before planning, with the same sentence, whether it came as a literal or a variable (a literal
 * would otherwise meet the cost limit first and get a less useful message).
 */
export const PAGE_SIZES: Readonly<Record<string, number>> = {
  // The role subgraphs' own, declared with each role (`subgraphs/<role>/declaration.ts`).
  ...ROLE_PAGE_SIZES,
  'Query.events(first:)': 500,
  'Query.deadLetters(first:)': 500,
  'Query.syncRuns(first:)': 500,
  'Query.syncRunRows(first:)': 500,
  'WebhookEndpoint.messages(first:)': 100,
  'WebhookEndpoint.attempts(first:)': 100,
  'WebhookMessage.attempts(first:)': 100,
};

/** The sentence a page size outside its range gets, at either layer. */
export function pageSizeMessage(argument: string, max: number, got: unknown): string {
  return `\`${argument}\` must be from 1 to ${max}, got ${String(got)}.`;
}

/** Throws BAD_USER_INPUT unless `value` is an integer from 1 to the coordinate's maximum. */
export function checkPageSize(coordinate: keyof typeof PAGE_SIZES & string, value: number): void {
  const max = PAGE_SIZES[coordinate];
  if (max === undefined) throw new Error(`no page size is declared for ${coordinate}`);
  const argument = /\((\w+):\)$/.exec(coordinate)?.[1] ?? 'first';
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw badUserInput(pageSizeMessage(argument, max, value), argument);
}

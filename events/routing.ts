import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../lib/config/env.js';
import { EVENT_TYPES, type StoredEvent } from '../lib/events/event.js';
import { isDecimal, parseDecimal } from '../lib/money.js';
import { actionKind, EVENT_SOURCE_NAMES } from '../platforms/registry.js';
import { ruleActionSchema } from './actions/rule-actions.js';

/**
 * Routing rules: which named channels an event goes to, by its type, source and the customer it is
 * about, and which actions it triggers on the platforms. Subscriptions select a channel
 * (`events(channel: "high-value-orders")`); actions run through the action outbox (events/actions/).
 */
const LIFECYCLE_STAGES = [
  'SUBSCRIBER',
  'LEAD',
  'MARKETING_QUALIFIED_LEAD',
  'SALES_QUALIFIED_LEAD',
  'OPPORTUNITY',
  'CUSTOMER',
  'EVANGELIST',
  'OTHER',
] as const;
const decimal = z.string().refine(isDecimal, 'expected a decimal number as a string, such as "200.00"');

const ruleSchema = z
  .object({
    name: z.string().min(1).max(64),
    channel: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a channel name: lower-case letters, digits and dashes')
      .optional(),
    /** Writes to the platforms for each matching event (`{ platform, type, ...parameters }`). */
    actions: z.array(ruleActionSchema).min(1).max(10).optional(),
    when: z
      .object({
        types: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
        sources: z.array(z.enum(EVENT_SOURCE_NAMES)).min(1).optional(),
        /** The order's total (ORDER_PLACED's `totalPrice`) is at least this amount. */
        orderTotalAtLeast: decimal.optional(),
        customer: z
          .object({
            lifecycleStages: z.array(z.enum(LIFECYCLE_STAGES)).min(1).optional(),
            /** Member of at least one of these CRM lists (by name). */
            inLists: z.array(z.string().min(1)).min(1).optional(),
            lifetimeValueAtLeast: decimal.optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .strict()
  .refine((rule) => rule.channel !== undefined || rule.actions !== undefined, {
    message: 'a rule needs a channel, actions, or both',
  });
const rulesFileSchema = z
  .object({ rules: z.array(ruleSchema).max(200) })
  .strict()
  .refine((file) => new Set(file.rules.map((rule) => rule.name)).size === file.rules.length, {
    // Actions are keyed by their rule's name: two rules of one name would share their keys.
    message: 'rule names must be unique',
  });

export type RoutingRule = z.output<typeof ruleSchema>;

/** What the rules may ask about a customer; fetched through the graph only when a rule needs it. */
export interface CustomerContext {
  id: string | null;
  email: string | null;
  lifecycleStage: string | null;
  lists: string[];
  lifetimeValue: string | null;
}

/** A rule that cannot be evaluated for this event (missing or malformed data): dead-lettered with the reason. */
export class RoutingError extends Error {
  override name = 'RoutingError';
}

export function loadRoutingRules(path: string): RoutingRule[] {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError([`ROUTING_RULES_FILE (${path}): cannot read it (${(error as Error).message})`]);
  }
  const parsed = rulesFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.slice(0, 10).map((issue) => {
        const [, index, ...rest] = issue.path;
        const rule =
          typeof index === 'number'
            ? (raw as { rules?: { name?: unknown }[] }).rules?.[index]?.name
            : undefined;
        const where =
          typeof index === 'number'
            ? `rules[${index}]${rule ? ` (name "${String(rule)}")` : ''}${rest.length ? `.${rest.join('.')}` : ''}`
            : issue.path.join('.');
        return `ROUTING_RULES_FILE (${path}): ${where}: ${issue.message}`;
      }),
    );
  }
  return parsed.data.rules;
}

/**
 * Whether any rule that could match this event needs the customer's context: a condition on the
 * customer, or an action that writes to their CRM record when the event names only an email.
 */
export function needsCustomer(rules: readonly RoutingRule[], event: StoredEvent): boolean {
  return rules.some(
    (rule) =>
      basicMatch(rule, event) &&
      (rule.when.customer !== undefined ||
        (!event.customer?.id &&
          (rule.actions ?? []).some((action) => actionKind(action.platform, action.type)?.needsCustomerId))),
  );
}

function basicMatch(rule: RoutingRule, event: StoredEvent): boolean {
  const { when } = rule;
  if (when.types && !when.types.includes(event.type)) return false;
  if (when.sources && !(when.sources as readonly string[]).includes(event.source)) return false;
  return true;
}

const atLeast = (value: string | null | undefined, threshold: string) =>
  value !== null && value !== undefined && parseDecimal(value) >= parseDecimal(threshold);

/** The channels this event goes to. Throws RoutingError when a matching rule cannot be evaluated. */
export function route(
  rules: readonly RoutingRule[],
  event: StoredEvent,
  customer: CustomerContext | null,
): string[] {
  const channels = new Set<string>();
  for (const rule of matchingRules(rules, event, customer)) if (rule.channel) channels.add(rule.channel);
  return [...channels].sort();
}

/** The rules this event matches, in order. Throws RoutingError when one cannot be evaluated. */
export function matchingRules(
  rules: readonly RoutingRule[],
  event: StoredEvent,
  customer: CustomerContext | null,
): RoutingRule[] {
  const matched: RoutingRule[] = [];
  for (const rule of rules) {
    if (!basicMatch(rule, event)) continue;
    const { when } = rule;
    if (when.orderTotalAtLeast !== undefined) {
      const total = event.properties['totalPrice'];
      if (typeof total !== 'string' || !isDecimal(total)) {
        throw new RoutingError(`rule "${rule.name}": the event has no decimal totalPrice to compare`);
      }
      if (!atLeast(total, when.orderTotalAtLeast)) continue;
    }
    if (when.customer) {
      if (!customer) continue;
      const c = when.customer;
      if (
        c.lifecycleStages &&
        !(
          customer.lifecycleStage &&
          c.lifecycleStages.includes(customer.lifecycleStage as (typeof LIFECYCLE_STAGES)[number])
        )
      )
        continue;
      if (c.inLists && !c.inLists.some((name) => customer.lists.includes(name))) continue;
      if (c.lifetimeValueAtLeast !== undefined && !atLeast(customer.lifetimeValue, c.lifetimeValueAtLeast))
        continue;
    }
    matched.push(rule);
  }
  return matched;
}

import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ValidationRule } from 'graphql';

/**
 * Limits on the shape of an operation, checked during validation (graphql-armor), before planning:
 * the defaults of GraphQL Armor, with a little more depth for the connection pattern
 * (customers -> edges -> node -> lifetimeValue -> amount).
 */
export const OPERATION_LIMITS = {
  maxDepth: 8,
  maxCost: 5_000,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1_000,
} as const;

/**
 * The limit rules, for `validate`. Tokens are counted by the pipeline's own parse (graphql-js
 * `maxTokens`), which runs first; suggestions are hidden by the pipeline for every transport, so
 * armor's Apollo-only plugins are not used at all.
 */
export function operationLimitRules(): readonly ValidationRule[] {
  return new ApolloArmor({
    // Depth of fields, as the response nests them: a fragment spread is not a level of its own
    // (armor counts one per spread unless told to flatten).
    maxDepth: { n: OPERATION_LIMITS.maxDepth, flattenFragments: true },
    costLimit: { maxCost: OPERATION_LIMITS.maxCost },
    // Armor lets `__typename` be aliased without limit by default; a thousand aliased
    // `__typename`s are still a thousand response keys.
    maxAliases: { n: OPERATION_LIMITS.maxAliases, allowList: [] },
    maxDirectives: { n: OPERATION_LIMITS.maxDirectives },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect().validationRules;
}

const LIMIT_MESSAGE = /^Syntax Error: (Query depth|Query Cost|Aliases|Directives|Token) limit/;

/** Armor reports a limit as a plain validation or syntax error; it gets its own public code. */
export function isLimitError(message: string): boolean {
  return LIMIT_MESSAGE.test(message);
}

/** The limit sentence without armor's misleading "Syntax Error: " prefix. */
export function limitMessage(message: string): string {
  return message.replace(/^Syntax Error: /, '');
}

/**
 * "Did you mean `email`?" maps the schema for a caller who may not introspect it: outside
 * development, suggestions are cut from every message, whatever the transport.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .*\?$/s, '');
}

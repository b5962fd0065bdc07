import { ApolloArmor } from '@escape.tech/graphql-armor';

/**
 * Limits on the shape of an operation, checked during validation (graphql-armor), before planning:
 * the defaults of GraphQL Armor, with a little more depth for the connection pattern
 * (customers -> edges -> node -> lifetimeValue -> amount). Field suggestions ("did you mean
 * `email`?") are hidden outside development, since they map the schema for a caller who may not
 * introspect it.
 */
export const OPERATION_LIMITS = {
  maxDepth: 8,
  maxCost: 5_000,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1_000,
} as const;

export function operationLimits(development: boolean) {
  return new ApolloArmor({
    // Depth of fields, as the response nests them: a fragment spread is not a level of its own
    // (armor counts one per spread unless told to flatten).
    maxDepth: { n: OPERATION_LIMITS.maxDepth, flattenFragments: true },
    costLimit: { maxCost: OPERATION_LIMITS.maxCost },
    maxAliases: { n: OPERATION_LIMITS.maxAliases },
    maxDirectives: { n: OPERATION_LIMITS.maxDirectives },
    // Tokens are counted by the operation gate's own parse (graphql-js `maxTokens`), which runs
    // first: armor's token plugin throws from a parsing hook, which Apollo turns into a 500.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: !development },
  }).protect();
}

const LIMIT_MESSAGE = /^Syntax Error: (Query depth|Query Cost|Aliases|Directives|Token) limit/;

/** Armor reports a limit as a plain validation or syntax error; it gets its own public code. */
export function isLimitError(message: string): boolean {
  return LIMIT_MESSAGE.test(message);
}

import { z } from 'zod';

/**
 * What the gateway tells the explorer page, embedded in the HTML as a JSON block (no extra request,
 * nothing to run under the page's Content-Security-Policy). Shared by the server that writes it and
 * the browser code that reads it, and checked with zod on the browser side like any other input.
 */
export const exampleOperationSchema = z.object({
  name: z.string(),
  kind: z.enum(['query', 'mutation', 'subscription']),
  /** The comment lines above the operation, without the metadata lines. */
  description: z.string(),
  /** The demo client the example is written for, from its `# Client:` line. */
  client: z.string().optional(),
  /** Scopes the example needs, from its `# Scopes:` line. */
  scopes: z.array(z.string()),
  /** The operation with the fragments it spreads, as written in the file. */
  document: z.string(),
  /** Pretty-printed JSON from the `# Variables:` line, or empty. */
  variables: z.string(),
});
export type ExampleOperation = z.infer<typeof exampleOperationSchema>;

export const exampleFileSchema = z.object({
  /** File name without `.graphql`, such as `personalization-service`: one kind of user. */
  file: z.string(),
  operations: z.array(exampleOperationSchema),
});
export type ExampleFile = z.infer<typeof exampleFileSchema>;

export const pageConfigSchema = z.object({
  /** Path of the GraphQL endpoint, HTTP and graphql-ws alike. */
  endpoint: z.string().startsWith('/'),
  /** Development mode: every caller may introspect, so the schema shows for any valid key. */
  introspectionForAll: z.boolean(),
  /** What the header editor holds on first load. */
  defaultHeaders: z.string(),
  examples: z.array(exampleFileSchema),
});
export type PageConfig = z.infer<typeof pageConfigSchema>;

/** The element id of the JSON block in the page. */
export const PAGE_CONFIG_ELEMENT_ID = 'explorer-config';

/** Where the caller pastes a key: the template the header editor starts with. */
export const KEY_PLACEHOLDER = '<paste a key>';
export const DEFAULT_HEADERS = `{"authorization": "Bearer ${KEY_PLACEHOLDER}"}`;

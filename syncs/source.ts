import { z } from 'zod';

/**
 * A sync's source: its GraphQL query run through the gateway with the sync's client key, a page at
 * a time (`$first`, `$after`), so a sync sees exactly what that client may see and the gateway's
 * one pipeline (auth, limits, permissions, logs) applies to it as to any client. Any GraphQL error
 * fails the page: a partial page (a platform down, a field refused) must not pass for the truth,
 * or a mirror would remove everyone it left out.
 */

export interface SourceSettings {
  /** The gateway's GraphQL endpoint. */
  gatewayUrl: string;
  /** The API key (or access token) the query runs with. */
  apiKey: string;
  /** Upper bound of one page. @default 60000 */
  timeoutMs?: number;
}

export class SourceError extends Error {
  readonly code = 'SYNC_SOURCE_FAILED';
}

const page = z.object({
  data: z.record(z.string(), z.unknown()).nullish(),
  errors: z
    .array(
      z.object({ message: z.string(), extensions: z.record(z.string(), z.unknown()).optional() }).loose(),
    )
    .optional(),
});

const connection = z.object({
  edges: z.array(z.object({ node: z.record(z.string(), z.unknown()).nullable() }).loose()),
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }).loose(),
});

export type SourceRow = Record<string, unknown>;

function at(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The rows of every page, one page at a time; `onPage` after each (calls, for the run's counts). */
export async function* readSource(
  settings: SourceSettings,
  query: { query: string; connection: string; pageSize: number },
  signal?: AbortSignal,
): AsyncGenerator<SourceRow[]> {
  let after: string | null = null;
  for (;;) {
    signal?.throwIfAborted();
    let response: Response;
    try {
      response = await fetch(settings.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${settings.apiKey}` },
        body: JSON.stringify({ query: query.query, variables: { first: query.pageSize, after } }),
        signal: AbortSignal.any([
          AbortSignal.timeout(settings.timeoutMs ?? 60_000),
          ...(signal ? [signal] : []),
        ]),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new SourceError(
        `the gateway did not answer the source query (${error instanceof Error ? error.name : 'error'})`,
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new SourceError(`the gateway answered ${response.status} without a GraphQL body`);
    }
    const parsed = page.safeParse(body);
    if (!parsed.success)
      throw new SourceError(
        `the gateway answered ${response.status} with something that is not a GraphQL response`,
      );
    const first = parsed.data.errors?.[0];
    if (first) {
      const code = typeof first.extensions?.['code'] === 'string' ? ` (${first.extensions['code']})` : '';
      throw new SourceError(`the source query failed: ${first.message}${code}`);
    }
    const found = connection.safeParse(at(parsed.data.data, query.connection));
    if (!found.success)
      throw new SourceError(`the answer has no connection at data.${query.connection} (edges and pageInfo)`);
    yield found.data.edges.flatMap((edge) => (edge.node ? [edge.node] : []));
    if (!found.data.pageInfo.hasNextPage || found.data.pageInfo.endCursor === null) return;
    after = found.data.pageInfo.endCursor;
  }
}

export { at as valueAt };

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { undeclaredFields } from '../auth/requirements.js';
import {
  PLATFORM_SUBGRAPHS,
  SUBGRAPH_NAMES,
  defaultSubgraphUrl,
  subgraphSchemaPath,
  type PlatformSubgraphName,
  type SubgraphName,
} from './subgraph-names.js';

export interface CompositionInput {
  name: SubgraphName;
  /** Written into the supergraph as the default URL; the gateway's config can override it. */
  url: string;
  sdl: string;
}

export type CompositionResult =
  { ok: true; supergraphSdl: string; hints: string[] } | { ok: false; errors: string[]; hints: string[] };

/** Default URL of each subgraph, matching the defaults in the configuration catalog. */
export const DEFAULT_SUBGRAPH_URLS: Record<SubgraphName, string> = {
  ...(Object.fromEntries(PLATFORM_SUBGRAPHS.map((name) => [name, defaultSubgraphUrl(name)])) as Record<
    PlatformSubgraphName,
    string
  >),
  events: 'http://127.0.0.1:4000/subgraphs/events/graphql',
};

export function readSubgraphSchemas(root: string): CompositionInput[] {
  return SUBGRAPH_NAMES.map((name) => ({
    name,
    url: DEFAULT_SUBGRAPH_URLS[name],
    sdl: readFileSync(join(root, subgraphSchemaPath(name)), 'utf8'),
  }));
}

/**
 * Composes the subgraph SDLs with Apollo's composition (Federation 2). Errors name the subgraph when
 * composition knows it, so `npm run compose` points at the file to fix.
 *
 * Before composing, every field must declare who may read it (`@requiresScopes` or `@authenticated`
 * on the field, its type or the type it returns): both the gateway and the subgraphs deny a field
 * that declares nothing, so one would only ever answer FORBIDDEN; refusing it here says so early.
 */
export function composeSupergraph(inputs: readonly CompositionInput[]): CompositionResult {
  const services = [];
  const errors: string[] = [];
  for (const input of inputs) {
    const where = `[${input.name}] ${subgraphSchemaPath(input.name)}`;
    try {
      const typeDefs = parse(input.sdl);
      for (const coordinate of undeclaredFields(typeDefs)) {
        errors.push(
          `UNDECLARED_FIELD: ${where}: ${coordinate} declares no @requiresScopes or @authenticated, on itself, its type or the type it returns; nobody could read it.`,
        );
      }
      services.push({ name: input.name, url: input.url, typeDefs });
    } catch (error) {
      errors.push(`${where}: ${(error as Error).message}`);
    }
  }
  if (errors.length > 0) return { ok: false, errors, hints: [] };
  const result = composeServices(services);
  const hints = (result.hints ?? []).map((hint) => `${hint.definition.code}: ${hint.message}`);
  if (result.errors) {
    return {
      ok: false,
      hints,
      errors: result.errors.map((error) => {
        const code = (error.extensions['code'] as string | undefined) ?? 'COMPOSITION_ERROR';
        return `${code}: ${error.message}`;
      }),
    };
  }
  return { ok: true, supergraphSdl: `${result.supergraphSdl.trimEnd()}\n`, hints };
}

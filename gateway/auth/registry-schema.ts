import { z } from 'zod';
import { ALL_SCOPES, type Scope } from '../../lib/auth/scopes.js';
import { isKeyId, isSecretHash } from './api-keys.js';

/**
 * The client registry file, checked once when it is read. Objects are strict: a misspelt field
 * (`expires_at` for `expiresAt`) would otherwise be dropped in silence and leave a key that never
 * expires, so an unknown field is an error.
 */

const CLIENT_ID = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

const isoDateTime = z.iso.datetime({ offset: true, error: 'expected an ISO-8601 date-time' });

function integerFrom(min: number, max: number) {
  const error = `expected an integer from ${min} to ${max}`;
  return z.number().int({ error }).min(min, { error }).max(max, { error });
}

const keySchema = z.strictObject({
  id: z.string().refine(isKeyId, { error: 'expected a key id: 12 characters from 0-9 and a-v' }),
  label: z.string().min(1, { error: 'expected a non-empty label, or no label field' }).optional(),
  demo: z
    .literal(true, { error: 'expected true (leave the field out for a key that is not a demo key)' })
    .optional(),
  hash: z.string().refine(isSecretHash, {
    error: 'expected "sha256:" and 64 lower-case hex digits (never the key itself)',
  }),
  createdAt: isoDateTime,
  expiresAt: isoDateTime.optional(),
  revokedAt: isoDateTime.optional(),
});

const SCOPES_EXPECTED = 'expected "all" or a list of scopes';

const clientSchema = z.strictObject({
  id: z.string().regex(CLIENT_ID, {
    error: 'expected a client id: lower-case letters, digits, ".", "_" or "-", at most 64 characters',
  }),
  name: z.string().trim().min(1, { error: 'expected a non-empty name' }),
  description: z.string().optional(),
  /**
   * The scopes granted, or `"all"`: every scope there is, those of a platform added later included
   * (an administrator's, the explorer's). Kept as written, so a file the CLI rewrites keeps `"all"`.
   */
  scopes: z.union([
    z.literal('all', { error: SCOPES_EXPECTED }),
    z.array(
      z.enum(ALL_SCOPES as [Scope, ...Scope[]], {
        error: (issue) =>
          `unknown scope ${JSON.stringify(issue.input)}; expected one of ${ALL_SCOPES.join(', ')} (or "all" instead of a list)`,
      }),
      { error: SCOPES_EXPECTED },
    ),
  ]),
  rateLimit: z.strictObject({
    requestsPerMinute: integerFrom(1, 1_000_000),
    burst: integerFrom(1, 100_000),
  }),
  /** Subscriptions the client may hold open at once on one gateway instance. @default 100 */
  maxSubscriptions: integerFrom(1, 100_000).optional(),
  keys: z.array(keySchema),
});

export const clientRegistrySchema = z
  .strictObject({ clients: z.array(clientSchema) })
  .superRefine(({ clients }, ctx) => {
    const clientAt = new Map<string, number>();
    // Key ids are unique across the whole file: the key text carries only its key id, not the client.
    const keyAt = new Map<string, string>();
    clients.forEach((client, i) => {
      const seen = clientAt.get(client.id);
      if (seen === undefined) clientAt.set(client.id, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'id'],
          message: `duplicate client id ${JSON.stringify(client.id)} (also clients[${seen}])`,
        });
      client.keys.forEach((key, k) => {
        const where = `clients[${i}].keys[${k}]`;
        const other = keyAt.get(key.id);
        if (other === undefined) keyAt.set(key.id, where);
        else
          ctx.addIssue({
            code: 'custom',
            path: ['clients', i, 'keys', k, 'id'],
            message: `duplicate key id ${JSON.stringify(key.id)} (also ${other})`,
          });
      });
    });
  });

export type ClientRegistryFile = z.output<typeof clientRegistrySchema>;
export type ClientRecord = ClientRegistryFile['clients'][number];
export type ClientKeyRecord = ClientRecord['keys'][number];

/** The scopes a client holds: its list, or every scope for `"all"`. */
export function grantedScopes(client: Pick<ClientRecord, 'scopes'>): readonly Scope[] {
  return client.scopes === 'all' ? ALL_SCOPES : client.scopes;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/** Fallback wording for the issues the schema does not word itself (types and missing fields). */
function wordIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
  return issue.input === undefined ? `required, expected ${expected}` : `expected ${expected}`;
}

/** `clients[1] (id "reporting-dashboard").keys[0].expiresAt`: the path, naming the client by id. */
function describePath(path: readonly PropertyKey[], data: unknown): string {
  let out = '';
  let node: unknown = data;
  for (const [depth, segment] of path.entries()) {
    out += typeof segment === 'number' ? `[${segment}]` : `${out === '' ? '' : '.'}${String(segment)}`;
    node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[segment] : undefined;
    const isClient = depth === 1 && path[0] === 'clients' && typeof segment === 'number';
    if (isClient && node && typeof node === 'object') {
      const id = (node as Record<string, unknown>)['id'];
      if (typeof id === 'string') out += ` (id ${JSON.stringify(id)})`;
    }
  }
  return out === '' ? '(top level)' : out;
}

/**
 * A value no branch of a union accepts (`scopes`: "all" or a list) is worded by the branch that
 * got furthest into it (a list with one unknown scope), not as "Invalid input".
 */
function closestBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((inner) => inner.path.length));
  const closest = issue.errors.reduce((best, branch) => (depth(branch) > depth(best) ? branch : best));
  return closest.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })).flatMap(closestBranch);
}

/**
 * The registry in `data`, or every problem with it, one line each, naming the client and the field:
 * `clients[1] (id "reporting-dashboard").keys[0].expiresAt: expected an ISO-8601 date-time`.
 */
export function checkClientRegistry(
  data: unknown,
): { ok: true; registry: ClientRegistryFile } | { ok: false; problems: string[] } {
  const result = clientRegistrySchema.safeParse(data, { error: wordIssue });
  if (result.success) return { ok: true, registry: result.data };
  const problems = result.error.issues
    .flatMap(closestBranch)
    .flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => `${describePath([...issue.path, key], data)}: unknown field`)
        : [`${describePath(issue.path, data)}: ${issue.message}`],
    );
  return { ok: false, problems };
}

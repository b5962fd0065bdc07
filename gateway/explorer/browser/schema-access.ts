import { KEY_PLACEHOLDER } from '../page-config.js';

/** The operation name GraphiQL gives its introspection query (set on GraphiQL, read by the fetcher). */
export const INTROSPECTION_OPERATION = 'IntrospectionQuery';

/** Whether the explorer could load the schema with the caller's key, and if not, why. */
export type SchemaAccess =
  | { kind: 'loading' }
  | { kind: 'readable' }
  /** No key in the Headers editor, or the placeholder still there. */
  | { kind: 'no-key' }
  /** The gateway refused the key (401): unknown, expired or revoked. */
  | { kind: 'key-refused'; detail: string }
  /** A valid key without `schema:read`: queries run, the schema does not load. */
  | { kind: 'schema-forbidden'; detail: string }
  | { kind: 'failed'; detail: string };

interface ResponseError {
  message?: unknown;
  extensions?: { code?: unknown; field?: unknown } | null;
}

function errorsOf(body: unknown): ResponseError[] {
  if (!body || typeof body !== 'object') return [];
  const errors = (body as { errors?: unknown }).errors;
  return Array.isArray(errors) ? errors.filter((e): e is ResponseError => !!e && typeof e === 'object') : [];
}

function firstMessage(body: unknown, fallback: string): string {
  const message = errorsOf(body)[0]?.message;
  return typeof message === 'string' ? message : fallback;
}

/** Whether the headers carry something that could be a key (not missing, not the placeholder). */
export function hasKey(headers: Readonly<Record<string, unknown>>): boolean {
  const credential = Object.entries(headers).find(([name]) =>
    ['authorization', 'x-api-key'].includes(name.toLowerCase()),
  )?.[1];
  if (typeof credential !== 'string') return false;
  const value = credential.replace(/^bearer\s+/i, '').trim();
  return value.length > 0 && !value.includes(KEY_PLACEHOLDER);
}

/**
 * Reads the answer to GraphiQL's introspection query: the schema, or the reason there is none.
 * The gateway answers 401 without a valid key, and `FORBIDDEN` at `Query.__schema` to a key
 * without the scope `schema:read` (outside development mode).
 */
export function schemaAccessFrom(
  response: { status: number; body: unknown },
  headers: Readonly<Record<string, unknown>>,
): SchemaAccess {
  const data = (response.body as { data?: { __schema?: unknown } | null } | null)?.data;
  if (data?.__schema) return { kind: 'readable' };
  if (response.status === 401) {
    if (!hasKey(headers)) return { kind: 'no-key' };
    return { kind: 'key-refused', detail: firstMessage(response.body, 'The key was not accepted.') };
  }
  const forbidden = errorsOf(response.body).find(
    (e) =>
      e.extensions?.code === 'FORBIDDEN' &&
      (e.extensions.field === 'Query.__schema' || e.extensions.field === 'Query.__type'),
  );
  if (forbidden) {
    return {
      kind: 'schema-forbidden',
      detail: typeof forbidden.message === 'string' ? forbidden.message : 'requires schema:read',
    };
  }
  return {
    kind: 'failed',
    detail: `HTTP ${response.status}: ${firstMessage(response.body, 'the answer held no schema')}`,
  };
}

export interface Notice {
  tone: 'info' | 'warning' | 'error';
  title: string;
  text: string;
}

/** What the explorer says about the schema, in words; undefined when there is nothing to say. */
export function noticeFor(access: SchemaAccess): Notice | undefined {
  switch (access.kind) {
    case 'loading':
    case 'readable':
      return undefined;
    case 'no-key':
      return {
        tone: 'info',
        title: 'Paste an API key to start.',
        text: `Every request needs one: replace ${KEY_PLACEHOLDER} in the Headers tab below with your key (the demo keys are in the README). Without it the gateway answers 401 and there is no schema to show.`,
      };
    case 'key-refused':
      return {
        tone: 'error',
        title: 'The gateway refused this key (401).',
        text: `${access.detail} Check the key in the Headers tab: unknown, expired and revoked keys are refused alike.`,
      };
    case 'schema-forbidden':
      return {
        tone: 'warning',
        title: 'Your key may not read the schema (needs schema:read) — queries still run.',
        text: 'Introspection is only for keys with the scope schema:read (or in development mode), so the docs pane and autocompletion stay empty. Write operations by hand or open one from Examples; fields your key may not read come back null with a FORBIDDEN error.',
      };
    case 'failed':
      return {
        tone: 'error',
        title: 'The schema could not be loaded.',
        text: `${access.detail}. Queries may still run; reload the schema with the ↻ button once the gateway answers.`,
      };
  }
}

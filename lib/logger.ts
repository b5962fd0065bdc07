import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * Values registered here are replaced by `[secret]` in every string a logger writes, including
 * messages and error stacks from upstream calls, as a second line of defence behind path redaction.
 */
const secretValues = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 8) secretValues.add(value);
}

function scrub(text: string): string {
  let out = text;
  for (const secret of secretValues) if (out.includes(secret)) out = out.split(secret).join('[secret]');
  return out;
}

function scrubDeep(value: unknown, depth = 0): unknown {
  if (secretValues.size === 0 || depth > 6) return value;
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  if (value instanceof Error) {
    return {
      type: value.name,
      message: scrub(value.message),
      stack: value.stack ? scrub(value.stack) : undefined,
    };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
    return out;
  }
  return value;
}

/** Paths whose values never reach a log line, whatever they hold. */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["x-gateway-token"]',
  '*.headers.cookie',
  '*.token',
  '*.accessToken',
  '*.apiKey',
  '*.secret',
  '*.password',
  'token',
  'accessToken',
  'apiKey',
  'secret',
  'password',
];

/**
 * Headers that carry a credential, whatever a platform names its own: `authorization`, `cookie`,
 * `x-api-key`, and any `…-token`, `…-api-key` or `…-secret` (an access-token header such as
 * `x-<platform>-access-token`). The redact paths above are fixed when a logger is made, below the
 * platform registry; this rule covers every platform's header without naming one (each
 * descriptor's `credential.header` must match it: test/lib/logger.test.ts).
 */
const CREDENTIAL_HEADER =
  /^(?:authorization|proxy-authorization|cookie|x-api-key)$|-(?:token|api-key|secret)$/i;

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER.test(name);
}

/** A copy of `headers` with credential headers censored; the same object when it holds none. */
function censorHeaders(headers: unknown): unknown {
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return headers;
  const names = Object.keys(headers);
  if (!names.some(isCredentialHeader)) return headers;
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, isCredentialHeader(name) ? '[redacted]' : value]),
  );
}

/**
 * Credential headers censored where the redact paths look for headers: `headers` on the line and
 * one level down (`req.headers`). Copies what it changes: the caller's objects are left alone.
 */
function censorCredentialHeaders(object: Record<string, unknown>): Record<string, unknown> {
  let out = object;
  const set = (key: string, value: unknown) => {
    if (out === object) out = { ...object };
    out[key] = value;
  };
  if ('headers' in object) {
    const censored = censorHeaders(object['headers']);
    if (censored !== object['headers']) set('headers', censored);
  }
  for (const [key, value] of Object.entries(object)) {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !('headers' in value)) continue;
    const inner = value as Record<string, unknown>;
    const censored = censorHeaders(inner['headers']);
    if (censored !== inner['headers']) set(key, { ...inner, headers: censored });
  }
  return out;
}

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Which part writes the line: `gateway`, `subgraph:crm`, `sandbox:hubspot`. */
  name: string;
  /** Where lines go; stdout by default. Tests pass a stream to capture everything written. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { log: (object) => scrubDeep(censorCredentialHeaders(object)) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          if (secretValues.size > 0) {
            for (let i = 0; i < args.length; i++) {
              const arg = args[i];
              if (typeof arg === 'string') args[i] = scrub(arg);
            }
          }
          method.apply(this, args);
        },
      },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Writes nothing: for parts built without a logger (a connector in a unit test). */
export const quietLogger: Logger = pino({ enabled: false });

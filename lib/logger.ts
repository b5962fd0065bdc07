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
  '*.headers["x-shopify-access-token"]',
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
      formatters: { log: (object) => scrubDeep(object) as Record<string, unknown> },
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

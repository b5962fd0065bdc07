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
  const logger = pino(
    {
      name: options.name,
      level: options.level,
      // REDACTED_PATHS, applied by redactLine rather than pino's `redact` option (redactLine says why).
      formatters: {
        log: (object) => scrubDeep(censorCredentialHeaders(redactLine(object))) as Record<string, unknown>,
        bindings: (bindings) => redactLine(bindings),
      },
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
    options.destination ?? batchedDestination(pino.destination({ sync: false })),
  );
  // A child's bindings are not formatted (pino resets the bindings formatter for children), so they
  // are redacted here; children inherit this `child` from the root, whose own property it is.
  const pinoChild = (Object.getPrototypeOf(logger) as { child: (this: Logger, ...args: unknown[]) => Logger })
    .child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, ...rest: unknown[]) {
    return pinoChild.call(this, redactLine(bindings), ...rest);
  } as unknown as Logger['child'];
  return logger;
}

/**
 * REDACTED_PATHS, read once: the top-level keys censored, the keys censored one level down (`*.x`),
 * and the header names censored one level down (`*.headers.x`).
 */
const REDACTION = (() => {
  const top = new Set<string>();
  const nested = new Set<string>();
  const nestedHeaders = new Set<string>();
  for (const path of REDACTED_PATHS) {
    const parts = path.split(/\.|\["|"\]\.?/).filter((part) => part !== '');
    if (parts.length === 1) top.add(parts[0] as string);
    else if (parts.length === 2 && parts[0] === '*') nested.add(parts[1] as string);
    else if (parts.length === 3 && parts[0] === '*' && parts[1] === 'headers')
      nestedHeaders.add(parts[2] as string);
    else throw new Error(`lib/logger.ts cannot apply the redact path ${path}`);
  }
  return { top, nested, nestedHeaders };
})();

const CENSOR = '[redacted]';

/** A copy of `value` with the `*.x` and `*.headers.x` paths censored; `value` itself when none is there. */
function redactOneLevelDown(value: Record<string, unknown>): Record<string, unknown> {
  let out = value;
  for (const key of REDACTION.nested)
    if (key in value) {
      if (out === value) out = { ...value };
      out[key] = CENSOR;
    }
  const headers = value['headers'];
  if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
    let censored = headers as Record<string, unknown>;
    for (const name of REDACTION.nestedHeaders)
      if (name in censored) {
        if (censored === headers) censored = { ...(headers as Record<string, unknown>) };
        censored[name] = CENSOR;
      }
    if (censored !== headers) {
      if (out === value) out = { ...value };
      out['headers'] = censored;
    }
  }
  return out;
}

/**
 * REDACTED_PATHS applied to a line's object or a child's bindings, as pino's `redact` option applied
 * them, copying what it changes. pino 10's redaction (@pinojs/redact 0.4.0) parsed its ten `*.`
 * paths again, character by character, for every field of every line: with a line per operation,
 * a quarter of all the gateway allocated under load (issue 17, target 2), and every scavenge it
 * brought forward promoted operations still in flight.
 */
function redactLine(object: Record<string, unknown>): Record<string, unknown> {
  let out = object;
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined) continue;
    let redacted: unknown = value;
    if (REDACTION.top.has(key)) redacted = CENSOR;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      redacted = redactOneLevelDown(value as Record<string, unknown>);
    if (redacted !== value) {
      if (out === object) out = { ...object };
      out[key] = redacted;
    }
  }
  return out;
}

/** What `batchedDestination` needs of pino's asynchronous destination (sonic-boom). */
export interface LineTarget {
  write(text: string): unknown;
  flush(callback?: (error?: Error) => void): void;
  flushSync(): void;
}

/** Destinations with lines not yet handed on: handed on and written synchronously as the process exits. */
const pendingAtExit = new Set<{ flushSync(): void }>();
let exitHook = false;

/**
 * pino's asynchronous destination, given the lines of one turn of the event loop as one string.
 * sonic-boom 4 appends a line to its pending text while a write is in flight and then measures
 * that text's UTF-8 length (`Buffer.byteLength`), which flattens it: the lines of a burst (the 50
 * requests answered by one coalesced execution each log a line in the same turn) were copied again
 * for every line, O(lines²) bytes, 6 KB of the gateway's allocation per request under the gateway
 * benchmark's load (issue 17, target 2; bench/README.md "Memory"). Here the turn's lines are
 * joined once and handed on together. Lines still waiting when the process exits (a
 * `process.exit` right after a fatal line) are handed on and written synchronously then, after
 * pino's own exit flush of the destination.
 */
export function batchedDestination(target: LineTarget): pino.DestinationStream & LineTarget {
  let lines: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const handOn = () => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (lines.length === 0) return;
    const text = lines.length === 1 ? (lines[0] as string) : lines.join('');
    lines = [];
    pendingAtExit.delete(destination);
    target.write(text);
  };
  const destination = {
    write(line: string) {
      lines.push(line);
      if (!scheduled) {
        scheduled = setImmediate(handOn);
        pendingAtExit.add(destination);
      }
    },
    flush(callback?: (error?: Error) => void) {
      handOn();
      target.flush(callback);
    },
    flushSync() {
      handOn();
      target.flushSync();
    },
  };
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const waiting of [...pendingAtExit]) waiting.flushSync();
    });
  }
  return destination;
}

/** Writes nothing: for parts built without a logger (a connector in a unit test). */
export const quietLogger: Logger = pino({ enabled: false });

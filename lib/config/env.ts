import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { addressOrRangeSchema } from '../server/trusted-proxies.js';

/**
 * One environment variable: how to read it, what it means and its default. The catalog of these is
 * the single source for start-up validation and for the configuration table in the README.
 */
export interface EnvVar<T> {
  /** Parses the raw string. Returning a failed zod result makes start-up stop with exit code 2. */
  readonly schema: z.ZodType<T>;
  /** What a valid value looks like, in words: "an integer from 1 to 65535". */
  readonly expected: string;
  readonly description: string;
  /** The raw default. Absent means the variable is optional (undefined) unless `required`. */
  readonly default?: string;
  readonly required?: boolean;
  /** Secret values are never echoed in errors or logs, and may be given as a file via `NAME_FILE`. */
  readonly secret?: boolean;
}

export type EnvValue<V> = V extends EnvVar<infer T> ? T : never;

function spec<T>(
  schema: z.ZodType<T>,
  expected: string,
  rest: Omit<EnvVar<T>, 'schema' | 'expected'>,
): EnvVar<T> {
  return { schema, expected, ...rest };
}

type Doc = Omit<EnvVar<unknown>, 'schema' | 'expected'>;

export const env = {
  port: (doc: Doc) =>
    spec(
      z.coerce.number().int().min(0).max(65535),
      'an integer port from 0 to 65535 (0 picks a free port)',
      doc,
    ),
  int: (min: number, max: number, doc: Doc) =>
    spec(z.coerce.number().int().min(min).max(max), `an integer from ${min} to ${max}`, doc),
  number: (min: number, max: number, doc: Doc) =>
    spec(z.coerce.number().min(min).max(max), `a number from ${min} to ${max}`, doc),
  url: ({ protocols = ['http', 'https'], ...doc }: Doc & { protocols?: readonly string[] }) =>
    spec(
      z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`) }).transform((u) => u.replace(/\/+$/, '')),
      `a URL (${protocols.map((p) => `${p}://`).join(' or ')})`,
      doc,
    ),
  string: (doc: Doc) => spec(z.string().min(1), 'a non-empty string', doc),
  /** An IANA time zone name this runtime knows (`UTC`, `America/New_York`). */
  timeZone: (doc: Doc) =>
    spec(
      z.string().refine((zone) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'not a known IANA time zone'),
      'an IANA time zone name such as America/New_York',
      doc,
    ),
  secret: (doc: Omit<Doc, 'secret'>) =>
    spec(z.string().trim().min(8), 'a secret of at least 8 characters', { ...doc, secret: true }),
  /** Comma-separated secrets: usually one, two while one is rotated out. */
  secretList: (doc: Omit<Doc, 'secret'>) =>
    spec(
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
        )
        .pipe(z.array(z.string().min(8)).min(1).max(5)),
      'one to five comma-separated secrets of at least 8 characters each',
      { ...doc, secret: true },
    ),
  /** Comma-separated IP addresses or CIDR ranges, IPv4 or IPv6. */
  addressList: (doc: Doc) =>
    spec(
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
        )
        .pipe(z.array(addressOrRangeSchema).min(1).max(100)),
      'comma-separated IP addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`)',
      doc,
    ),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T, doc: Doc) =>
    spec(z.enum(values), `one of ${values.join(', ')}`, doc),
  boolean: (doc: Doc) =>
    spec(
      z
        .enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])
        .transform((v) => ['true', '1', 'on', 'yes'].includes(v)),
      'true or false',
      doc,
    ),
  date: (doc: Doc) =>
    spec(
      z.iso.date().refine((d) => !Number.isNaN(Date.parse(d)), 'not a calendar date'),
      'a date as YYYY-MM-DD',
      doc,
    ),
  host: (doc: Doc) =>
    spec(
      z
        .string()
        .min(1)
        .regex(/^[\w.:-]+$/),
      'a host name or IP address',
      doc,
    ),
  path: (doc: Doc) => spec(z.string().min(1), 'a file path', doc),
};

/** Start-up stops on this: every problem with the environment, one line per variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], heading = 'Invalid configuration') {
    super(`${heading}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Exit code for a process stopped by bad configuration (documented in the README). */
export const CONFIG_EXIT_CODE = 2;

function readRaw(
  name: string,
  v: EnvVar<unknown>,
  source: NodeJS.ProcessEnv,
  problems: string[],
): string | undefined {
  const direct = source[name];
  const filePath = v.secret ? source[`${name}_FILE`] : undefined;
  if (direct !== undefined && direct !== '' && filePath) {
    problems.push(`${name}: set ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  if (filePath) {
    try {
      return readFileSync(filePath, 'utf8').trim();
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
      problems.push(`${name}_FILE: cannot read the file at ${JSON.stringify(filePath)} (${reason})`);
      return undefined;
    }
  }
  return direct === '' ? undefined : direct;
}

/**
 * Reads and validates the named variables. Collects every problem before throwing, so one start-up
 * tells the operator everything that is wrong; secret values are never part of a message.
 */
export function loadEnv<C extends Record<string, EnvVar<unknown>>, K extends keyof C & string>(
  catalog: C,
  names: readonly K[],
  source: NodeJS.ProcessEnv = process.env,
): { [P in K]: EnvValue<C[P]> } {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const v = catalog[name];
    if (!v) throw new Error(`unknown configuration variable ${name}`);
    const before = problems.length;
    const given = readRaw(name, v, source, problems);
    if (problems.length > before) continue;
    const raw = given ?? v.default;
    if (raw === undefined) {
      if (v.required) problems.push(`${name}: required, expected ${v.expected}`);
      continue;
    }
    const parsed = v.schema.safeParse(raw);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const got = v.secret ? '(value not shown)' : `got ${JSON.stringify(raw)}`;
      problems.push(`${name}: expected ${v.expected}, ${got}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as { [P in K]: EnvValue<C[P]> };
}

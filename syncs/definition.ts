import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SYNC_MODES, type SyncMode } from '../platforms/kit/sync.js';
import { SYNC_TARGETS, type SyncTarget } from '../platforms/registry.js';
import { parseSchedule, type Schedule } from './schedule.js';

/**
 * Sync definitions, declared in a YAML or JSON file and checked here once: every later step trusts
 * them. An error names the sync and the field (`sync "vip-customers": destination.options.tags.0:
 * …`), and the file is refused whole, so a typo never runs half the syncs.
 */

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** A dotted path into a source row: `lifetimeValue.amount`. */
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const path = z.string().regex(PATH, 'must be a dotted field path such as lifetimeValue.amount');

/** How a mapped value is turned before it is checked and sent. */
export const CONVERSIONS = ['string', 'number', 'date', 'lowercase'] as const;
export type Conversion = (typeof CONVERSIONS)[number];

const mappingEntry = z.union([
  path.transform((from) => ({ from, as: undefined as Conversion | undefined })),
  z
    .object({ from: path, as: z.enum(CONVERSIONS).optional() })
    .strict()
    .transform(({ from, as }) => ({ from, as })),
]);

const rule = z
  .object({
    /** The value must be present (not null, not empty). */
    required: z.boolean().optional(),
    /** The value must be an email address. */
    email: z.boolean().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict();
export type FieldRule = z.output<typeof rule>;

const condition = z
  .object({
    field: path,
    gte: z.number().optional(),
    gt: z.number().optional(),
    lte: z.number().optional(),
    lt: z.number().optional(),
    eq: z.union([z.string(), z.number(), z.boolean()]).optional(),
    in: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .optional(),
    /** A date-time at least this many days before the run. */
    olderThanDays: z.number().int().min(0).optional(),
    /** A date-time less than this many days before the run. */
    newerThanDays: z.number().int().min(1).optional(),
  })
  .strict()
  .refine(
    (c) => Object.keys(c).length > 1,
    'needs a test besides `field` (gte, gt, lte, lt, eq, in, olderThanDays, newerThanDays)',
  );
export type Condition = z.output<typeof condition>;

const scheduleSchema = (minIntervalMs: number | undefined) =>
  z
    .union([
      z.object({ every: z.string() }).strict(),
      z.object({ cron: z.string(), timeZone: z.string().default('UTC') }).strict(),
    ])
    .transform((value, ctx): Schedule => {
      const parsed = parseSchedule(value, minIntervalMs);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed, path: 'every' in value ? ['every'] : ['cron'] });
        return z.NEVER;
      }
      return parsed;
    });

const syncInputSchema = (minIntervalMs: number | undefined) =>
  z
    .object({
      name: z.string().regex(NAME, 'must be lower-case letters, digits and dashes, starting with a letter'),
      description: z.string().max(500).default(''),
      source: z
        .object({
          /** A GraphQL query taking `$first: Int!` and `$after: String`, run through the gateway. */
          query: z.string().min(1),
          /** Where the connection is in `data` (`customers`): its `edges[].node` are the rows. */
          connection: path,
          /** Rows asked per page. @default 500 */
          pageSize: z.number().int().min(1).max(500).default(500),
          /** Rows kept: every condition holds. @default all rows */
          where: z.array(condition).default([]),
        })
        .strict(),
      /** Destination field → source path (or `{from, as}`). */
      mapping: z
        .record(z.string().min(1).max(100), mappingEntry)
        .refine((m) => Object.keys(m).length > 0, 'maps no field'),
      /** The mapped field that identifies a record (its primary key). */
      key: z.string().min(1),
      /** Checks on mapped fields; a row failing one is quarantined, never sent. */
      rules: z.record(z.string(), rule).default({}),
      mode: z.enum(SYNC_MODES).default('upsert'),
      destination: z.object({ type: z.string(), options: z.unknown().default({}) }).strict(),
      schedule: scheduleSchema(minIntervalMs).optional(),
    })
    .strict();

const fileSchema = z.object({ syncs: z.array(z.unknown()) }).strict();

export type MappingEntry = { from: string; as: Conversion | undefined };

export interface SyncDefinition {
  name: string;
  description: string;
  source: { query: string; connection: string; pageSize: number; where: Condition[] };
  mapping: Record<string, MappingEntry>;
  key: string;
  rules: Record<string, FieldRule>;
  mode: SyncMode;
  destination: { type: string; options: unknown; target: SyncTarget };
  schedule: Schedule | undefined;
}

export class SyncDefinitionError extends Error {
  readonly code = 'SYNC_DEFINITION_INVALID';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${file}: ${problems.length === 1 ? 'a sync definition is' : 'sync definitions are'} invalid:\n  ${problems.join('\n  ')}`,
    );
  }
}

/** `label: a.b.c: message`, or `label: message` for the object itself. */
const problem = (label: string, issuePath: readonly PropertyKey[], message: string) =>
  `${label}: ${issuePath.length > 0 ? `${issuePath.map(String).join('.')}: ` : ''}${message}`;

/** Checks one sync; answers its definition or the problems, each naming the field. */
function checkSync(
  raw: unknown,
  index: number,
  syncInput: ReturnType<typeof syncInputSchema>,
): SyncDefinition | string[] {
  const label =
    typeof raw === 'object' && raw !== null && typeof (raw as { name?: unknown }).name === 'string'
      ? `sync "${(raw as { name: string }).name}"`
      : `sync #${index + 1}`;
  const parsed = syncInput.safeParse(raw);
  if (!parsed.success) return parsed.error.issues.map((issue) => problem(label, issue.path, issue.message));
  const sync = parsed.data;
  const problems: string[] = [];
  const target = SYNC_TARGETS.get(sync.destination.type);
  if (!target)
    return [
      `${label}: destination.type: unknown destination "${sync.destination.type}"; expected one of ${[...SYNC_TARGETS.keys()].join(', ')}`,
    ];
  const options = target.destination.parseOptions(sync.destination.options);
  if (!options.success)
    for (const issue of options.error.issues)
      problems.push(problem(label, ['destination', 'options', ...issue.path], issue.message));
  if (!target.destination.modes.includes(sync.mode))
    problems.push(
      `${label}: mode: ${target.destination.title} takes ${target.destination.modes.join(', ')}, not ${sync.mode}`,
    );
  if (!(sync.key in sync.mapping)) problems.push(`${label}: key: "${sync.key}" is not a mapped field`);
  for (const field of Object.keys(sync.rules))
    if (!(field in sync.mapping)) problems.push(`${label}: rules.${field}: not a mapped field`);
  if (!/\$first\b/.test(sync.source.query) || !/\$after\b/.test(sync.source.query))
    problems.push(`${label}: source.query: must take $first and $after (the pages of the connection)`);
  if (problems.length > 0 || !options.success) return problems;
  return {
    ...sync,
    destination: { type: sync.destination.type, options: options.data, target },
    schedule: sync.schedule,
  };
}

/** Reads and checks a sync file (`.yaml`, `.yml` or `.json`). Throws SyncDefinitionError. */
export interface SyncFileOptions {
  /** Shortest interval schedule (SYNC_MIN_INTERVAL_MS). @default 60000 */
  minIntervalMs?: number;
}

export function loadSyncFile(file: string, options: SyncFileOptions = {}): SyncDefinition[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new SyncDefinitionError(file, ['cannot be read (does it exist?)']);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SyncDefinitionError(file, [
      `is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${error instanceof Error ? error.message.split('\n')[0] : ''}`,
    ]);
  }
  return parseSyncDefinitions(raw, file, options);
}

export function parseSyncDefinitions(
  raw: unknown,
  file = 'syncs',
  options: SyncFileOptions = {},
): SyncDefinition[] {
  const syncInput = syncInputSchema(options.minIntervalMs);
  const top = fileSchema.safeParse(raw);
  if (!top.success)
    throw new SyncDefinitionError(
      file,
      top.error.issues.map((i) => problem('the file', i.path, i.message)),
    );
  const problems: string[] = [];
  const syncs: SyncDefinition[] = [];
  const names = new Set<string>();
  for (const [index, entry] of top.data.syncs.entries()) {
    const checked = checkSync(entry, index, syncInput);
    if (Array.isArray(checked)) {
      problems.push(...checked);
      continue;
    }
    if (names.has(checked.name)) problems.push(`sync "${checked.name}": name: declared twice`);
    names.add(checked.name);
    syncs.push(checked);
  }
  if (problems.length > 0) throw new SyncDefinitionError(file, problems);
  return syncs;
}

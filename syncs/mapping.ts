import { createHash } from 'node:crypto';
import type { SyncRecord } from '../platforms/kit/sync.js';
import type { Condition, FieldRule, MappingEntry, SyncDefinition } from './definition.js';
import { valueAt, type SourceRow } from './source.js';

/**
 * From a source row to the record a destination receives, checked at the boundary: a row that
 * fails a rule (bad email, missing key, value out of range) is quarantined with the reason and
 * never sent. Also the row filter (`source.where`) and the record's fingerprint.
 */

/** The same test as the platforms' address check: one `@`, a dot in the domain, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;

export type Mapped =
  | { ok: true; key: string; record: SyncRecord }
  | { ok: false; key: string | undefined; code: string; reason: string; record: SyncRecord };

function convert(value: unknown, as: MappingEntry['as']): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object') return JSON.stringify(value);
  const plain = value as string | number | boolean;
  switch (as) {
    case 'string':
      return String(plain);
    case 'lowercase':
      return String(plain).trim().toLowerCase();
    case 'number': {
      const n = Number(plain);
      return Number.isFinite(n) ? n : String(plain);
    }
    case 'date':
      // An ISO date-time to its UTC day, the form date fields take.
      return typeof plain === 'string' && /^\d{4}-\d{2}-\d{2}/.test(plain)
        ? plain.slice(0, 10)
        : String(plain);
    default:
      return plain;
  }
}

function breaks(
  field: string,
  value: unknown,
  rule: FieldRule,
): { code: string; reason: string } | undefined {
  const empty = value === null || value === '';
  if (empty) return rule.required ? { code: 'MISSING_VALUE', reason: `${field} is empty` } : undefined;
  if (rule.email && (typeof value !== 'string' || !EMAIL.test(value) || value.length > 254))
    return { code: 'INVALID_EMAIL', reason: `${field} is not an email address` };
  if (rule.min !== undefined || rule.max !== undefined) {
    const n = Number(value);
    if (!Number.isFinite(n)) return { code: 'NOT_A_NUMBER', reason: `${field} is not a number` };
    if (rule.min !== undefined && n < rule.min)
      return { code: 'OUT_OF_RANGE', reason: `${field} is below ${rule.min}` };
    if (rule.max !== undefined && n > rule.max)
      return { code: 'OUT_OF_RANGE', reason: `${field} is above ${rule.max}` };
  }
  return undefined;
}

export function mapRow(sync: SyncDefinition, row: SourceRow): Mapped {
  const record: Record<string, string | number | boolean | null> = {};
  for (const [field, entry] of Object.entries(sync.mapping))
    record[field] = convert(valueAt(row, entry.from), entry.as);
  const rawKey = record[sync.key];
  const key = rawKey === null || rawKey === '' ? undefined : String(rawKey).trim().toLowerCase();
  if (key === undefined)
    return { ok: false, key, code: 'MISSING_KEY', reason: `the key ${sync.key} is empty`, record };
  for (const [field, rule] of Object.entries(sync.rules)) {
    const broken = breaks(field, record[field], rule);
    if (broken) return { ok: false, key, ...broken, record };
  }
  const refused = sync.destination.target.destination.check(record, sync.destination.options, sync.mode);
  if (refused) return { ok: false, key, code: 'MISSING_IDENTITY', reason: refused, record };
  return { ok: true, key, record };
}

const DAY_MS = 86_400_000;

function holds(condition: Condition, row: SourceRow, now: number): boolean {
  const value = valueAt(row, condition.field);
  if (value === undefined || value === null) return false;
  const n = Number(value);
  if (condition.gte !== undefined && !(n >= condition.gte)) return false;
  if (condition.gt !== undefined && !(n > condition.gt)) return false;
  if (condition.lte !== undefined && !(n <= condition.lte)) return false;
  if (condition.lt !== undefined && !(n < condition.lt)) return false;
  if (condition.eq !== undefined && value !== condition.eq) return false;
  if (condition.in !== undefined && !condition.in.includes(value as string | number)) return false;
  if (condition.olderThanDays !== undefined || condition.newerThanDays !== undefined) {
    const time = typeof value === 'string' ? Date.parse(value) : NaN;
    if (!Number.isFinite(time)) return false;
    if (condition.olderThanDays !== undefined && now - time < condition.olderThanDays * DAY_MS) return false;
    if (condition.newerThanDays !== undefined && now - time >= condition.newerThanDays * DAY_MS) return false;
  }
  return true;
}

/** Whether the row is in the sync's audience. */
export function kept(sync: SyncDefinition, row: SourceRow, now: number): boolean {
  return sync.source.where.every((condition) => holds(condition, row, now));
}

/** A record's fingerprint: its fields in name order, hashed. */
export function fingerprint(record: SyncRecord): string {
  const ordered = Object.keys(record)
    .sort()
    .map((name) => [name, record[name]]);
  return createHash('sha256').update(JSON.stringify(ordered)).digest('base64url').slice(0, 22);
}

import type { Customer } from '../../../sandboxes/world/world.js';
import { contactProperty } from './properties.js';

/** The subset of HubSpot's CRM search request the sandbox understands, checked like HubSpot does. */
export interface SearchBody {
  filterGroups?: { filters?: Filter[] }[];
  sorts?: { propertyName?: string; direction?: 'ASCENDING' | 'DESCENDING' }[];
  properties?: string[];
  limit?: number;
  after?: string | number;
  query?: string;
}

interface Filter {
  propertyName?: string;
  operator?: string;
  value?: string | number;
  highValue?: string | number;
  values?: (string | number)[];
}

const OPERATORS = new Set([
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
]);
const MAX_RESULTS = 10_000;

function compare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const da = Date.parse(a);
  const db = Date.parse(b);
  if (Number.isFinite(da) && Number.isFinite(db)) return da - db;
  return a.localeCompare(b);
}

function matches(customer: Customer, filter: Filter): boolean {
  const actual = contactProperty(customer, filter.propertyName ?? '');
  const value = filter.value === undefined ? '' : String(filter.value).toLowerCase();
  const text = actual?.toLowerCase() ?? null;
  switch (filter.operator) {
    case 'EQ':
      return text === value;
    case 'NEQ':
      return text !== value;
    case 'IN':
      return text !== null && (filter.values ?? []).some((v) => String(v).toLowerCase() === text);
    case 'NOT_IN':
      return text === null || !(filter.values ?? []).some((v) => String(v).toLowerCase() === text);
    case 'HAS_PROPERTY':
      return text !== null && text !== '';
    case 'NOT_HAS_PROPERTY':
      return text === null || text === '';
    case 'CONTAINS_TOKEN':
      return text !== null && text.includes(value.replace(/\*/g, ''));
    case 'NOT_CONTAINS_TOKEN':
      return text === null || !text.includes(value.replace(/\*/g, ''));
    case 'LT':
      return text !== null && compare(text, value) < 0;
    case 'LTE':
      return text !== null && compare(text, value) <= 0;
    case 'GT':
      return text !== null && compare(text, value) > 0;
    case 'GTE':
      return text !== null && compare(text, value) >= 0;
    case 'BETWEEN':
      return (
        text !== null &&
        compare(text, value) >= 0 &&
        compare(text, String(filter.highValue ?? '').toLowerCase()) <= 0
      );
    default:
      return false;
  }
}

export function searchContacts(
  ordered: readonly Customer[],
  body: SearchBody | undefined,
):
  | { error: string }
  | { page: Customer[]; total: number; nextAfter: number | undefined; properties: string[] } {
  if (!body || typeof body !== 'object')
    return { error: 'Invalid input JSON: expected a search request body' };
  const groups = body.filterGroups ?? [];
  if (groups.length > 5) return { error: 'Too many filter groups: at most 5 are allowed' };
  for (const group of groups) {
    const filters = group.filters ?? [];
    if (filters.length > 6) return { error: 'Too many filters in a group: at most 6 are allowed' };
    for (const filter of filters) {
      if (!filter.operator || !OPERATORS.has(filter.operator))
        return { error: `Unknown filter operator ${String(filter.operator)}` };
      if (!filter.propertyName) return { error: 'A filter is missing propertyName' };
    }
  }
  const limit = body.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    return { error: `limit must be an integer from 1 to 200, got ${limit}` };
  const after = Number(body.after ?? 0);
  if (!Number.isInteger(after) || after < 0) return { error: 'after must be a non-negative integer offset' };
  if (after + limit > MAX_RESULTS) return { error: `Search can page through at most ${MAX_RESULTS} results` };

  let found =
    groups.length === 0
      ? [...ordered]
      : ordered.filter((c) => groups.some((g) => (g.filters ?? []).every((f) => matches(c, f))));
  if (body.query) {
    const q = body.query.toLowerCase();
    found = found.filter((c) =>
      [c.person.email, c.person.firstName, c.person.lastName].some((v) => v.toLowerCase().includes(q)),
    );
  }
  const sort = body.sorts?.[0];
  if (sort?.propertyName) {
    const name = sort.propertyName;
    const direction = sort.direction === 'DESCENDING' ? -1 : 1;
    found.sort((a, b) => direction * compare(contactProperty(a, name) ?? '', contactProperty(b, name) ?? ''));
  }
  const page = found.slice(after, after + limit);
  const nextAfter = after + limit < Math.min(found.length, MAX_RESULTS) ? after + limit : undefined;
  return { page, total: found.length, nextAfter, properties: body.properties ?? [] };
}

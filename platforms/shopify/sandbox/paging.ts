import type { SandboxRequest, SandboxResponse } from '../../../sandboxes/kit/types.js';

/**
 * Shopify REST cursor paging: `limit` (default 50, at most 250) and an opaque `page_info` handed out
 * in the `Link` header. The cursor carries the listing's filters and its position, which is why a
 * `page_info` request may only add `limit` and `fields`.
 */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 250;
const PAGE_INFO_COMPANIONS = new Set(['page_info', 'limit', 'fields']);

type Filters = Record<string, string>;

/** What a `page_info` holds: the listing, its filters and where the page starts or ends. */
interface Cursor {
  resource: string;
  filters: Filters;
  /** `next` pages start at `index`; `previous` pages end just before it. */
  direction: 'next' | 'previous';
  index: number;
}

/** Shopify's validation error: `{"errors":{"field":["message"]}}`. */
export function invalid(field: string, message: string, status = 400): SandboxResponse {
  return { status, json: { errors: { [field]: [message] } } };
}

function encode(cursor: Cursor): string {
  return Buffer.from(
    JSON.stringify({ r: cursor.resource, f: cursor.filters, d: cursor.direction, i: cursor.index }),
  ).toString('base64url');
}

function decode(text: string, resource: string): Cursor | undefined {
  try {
    const raw: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!raw || typeof raw !== 'object') return undefined;
    const { r, f, d, i } = raw as Record<string, unknown>;
    if (r !== resource || !f || typeof f !== 'object') return undefined;
    if ((d !== 'next' && d !== 'previous') || typeof i !== 'number' || !Number.isInteger(i) || i < 0)
      return undefined;
    const filters = Object.fromEntries(
      Object.entries(f).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    return { resource, filters, direction: d, index: i };
  } catch {
    return undefined;
  }
}

/** `limit` checked as Shopify does. */
export function limitParam(request: SandboxRequest): number | SandboxResponse {
  const text = request.query.get('limit');
  if (text === null) return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1)
    return invalid('limit', 'must be an integer greater than or equal to 1');
  if (limit > MAX_LIMIT) return invalid('limit', `must be less than or equal to ${MAX_LIMIT}`);
  return limit;
}

/** `fields=id,email`: the top-level fields to keep. */
export function fieldsParam(request: SandboxRequest): string[] {
  return (request.query.get('fields') ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
}

export interface ListingSpec<T> {
  /** Names the listing inside its cursors, so one listing's `page_info` is refused by another. */
  resource: string;
  /** Public path below `/admin/api/{version}`, written into the `Link` header. */
  path: string;
  /** The query parameters that filter the listing (they move into `page_info`). */
  filterNames: readonly string[];
  /** The filtered listing in its order, or the platform's 400 for a bad filter. */
  select(filters: Filters): T[] | SandboxResponse;
}

export interface Page<T> {
  items: T[];
  /** `Link` header value; absent when everything fits on one page. */
  link?: string;
}

/** One page of a listing, from its filters or from a `page_info` cursor. */
export function paginate<T>(
  request: SandboxRequest,
  spec: ListingSpec<T>,
  publicBase: string,
): Page<T> | SandboxResponse {
  const limit = limitParam(request);
  if (typeof limit !== 'number') return limit;
  const pageInfo = request.query.get('page_info');
  let cursor: Cursor;
  if (pageInfo !== null) {
    const extra = [...new Set(request.query.keys())].filter((name) => !PAGE_INFO_COMPANIONS.has(name));
    if (extra.length > 0) {
      return invalid(
        'page_info',
        `cannot be combined with other parameters than limit and fields: ${extra.join(', ')} are not allowed with page_info`,
      );
    }
    const decoded = decode(pageInfo, spec.resource);
    if (!decoded) return invalid('page_info', 'Invalid value.');
    cursor = decoded;
  } else {
    const filters: Filters = {};
    for (const name of spec.filterNames) {
      const value = request.query.get(name);
      if (value !== null) filters[name] = value;
    }
    cursor = { resource: spec.resource, filters, direction: 'next', index: 0 };
  }
  const all = spec.select(cursor.filters);
  if (!Array.isArray(all)) return all;
  const end = Math.min(cursor.index, all.length);
  const from = cursor.direction === 'previous' ? Math.max(0, end - limit) : end;
  const to = cursor.direction === 'previous' ? end : Math.min(from + limit, all.length);
  const links: string[] = [];
  const url = (target: Cursor) => `<${publicBase}${spec.path}?limit=${limit}&page_info=${encode(target)}>`;
  if (to < all.length) links.push(`${url({ ...cursor, direction: 'next', index: to })}; rel="next"`);
  if (from > 0) links.push(`${url({ ...cursor, direction: 'previous', index: from })}; rel="previous"`);
  return { items: all.slice(from, to), ...(links.length > 0 ? { link: links.join(', ') } : {}) };
}

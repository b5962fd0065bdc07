import type { SandboxRequest } from '../../../sandboxes/kit/types.js';

/**
 * Graph API cursor paging over an in-memory list: each row has an opaque cursor (its position,
 * base64url), `cursors.before`/`after` are the first and last row of the page, and `next`/`previous`
 * are full URLs that repeat the request with `after`/`before` set. Meta omits `next` on the last page.
 */

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 500;

export interface PageRequest {
  limit: number;
  after: number | undefined;
  before: number | undefined;
}

const encodeCursor = (position: number) => Buffer.from(`pos:${position}`).toString('base64url');

function decodeCursor(text: string): number | undefined {
  const match = /^pos:(\d{1,9})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

/** Reads `limit`, `after` and `before`; a message for code 100 when one is not acceptable. */
export function pageRequest(query: URLSearchParams): PageRequest | { error: string } {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? DEFAULT_PAGE_SIZE : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1)
    return { error: `The parameter limit must be a positive integer, got ${JSON.stringify(rawLimit)}` };
  const cursors: Record<'after' | 'before', number | undefined> = { after: undefined, before: undefined };
  for (const name of ['after', 'before'] as const) {
    const raw = query.get(name);
    if (raw === null || raw === '') continue;
    const position = decodeCursor(raw);
    if (position === undefined) return { error: `The ${name} cursor is not valid: ${JSON.stringify(raw)}` };
    cursors[name] = position;
  }
  // Meta caps the page size rather than refusing a larger one.
  return { limit: Math.min(limit, MAX_PAGE_SIZE), ...cursors };
}

export interface PageContext {
  request: SandboxRequest;
  /** Scheme and host written into `next`/`previous` (`https://graph.facebook.com`). */
  publicBaseUrl: string;
}

function linkWith(context: PageContext, set: Record<string, string>, drop: string): string {
  const query = new URLSearchParams(context.request.query);
  query.delete(drop);
  for (const [name, value] of Object.entries(set)) query.set(name, value);
  return `${context.publicBaseUrl}${context.request.path}?${query.toString()}`;
}

/** One page of `rows` as the Graph API envelope: `{ data, paging? }`. */
export function pageOf<T>(
  rows: readonly T[],
  page: PageRequest,
  context: PageContext,
): Record<string, unknown> {
  let start = 0;
  let end = rows.length;
  if (page.after !== undefined) start = page.after + 1;
  else if (page.before !== undefined) {
    end = Math.min(page.before, rows.length);
    start = Math.max(0, end - page.limit);
  }
  end = Math.min(end, start + page.limit);
  const data = rows.slice(start, end);
  if (data.length === 0) return { data };
  const cursors = { before: encodeCursor(start), after: encodeCursor(end - 1) };
  const limit = String(page.limit);
  return {
    data,
    paging: {
      cursors,
      ...(start > 0 ? { previous: linkWith(context, { limit, before: cursors.before }, 'after') } : {}),
      ...(end < rows.length ? { next: linkWith(context, { limit, after: cursors.after }, 'before') } : {}),
    },
  };
}

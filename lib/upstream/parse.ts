import type { z } from 'zod';
import { UpstreamError, type Platform } from '../errors.js';

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path)
    out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

/**
 * Checks a platform payload against its contract at the edge. A mismatch becomes an
 * UPSTREAM_BAD_RESPONSE naming the platform, the endpoint and the field, without echoing values
 * (they may be personal data).
 */
export function parseUpstream<S extends z.ZodType>(
  platform: Platform,
  endpoint: string,
  schema: S,
  payload: unknown,
): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 3)
    .map((issue) => `${pathText(issue.path)}: ${issue.message}`)
    .join('; ');
  const more = result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : '';
  throw new UpstreamError(`${platform} returned an unexpected payload from ${endpoint}: ${problems}${more}`, {
    platform,
    code: 'UPSTREAM_BAD_RESPONSE',
    endpoint,
  });
}

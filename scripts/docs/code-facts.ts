import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordType } from '../../lib/cache/record-cache.js';
import type { Platform } from '../../lib/errors.js';

/**
 * Facts read from a connector's source: the platform endpoints it calls (every call names its
 * endpoint as `'<METHOD> <path template>'`, the label of its metrics and errors) and the record
 * types it caches. Read from the code rather than listed by hand, so the document cannot claim an
 * endpoint the connector stopped calling.
 */
export interface ConnectorFacts {
  endpoints: string[];
  recordTypes: RecordType[];
}

const ENDPOINT = /'((?:GET|POST|PUT|PATCH|DELETE) \/[^']*)'/g;
const RECORD_TYPES: readonly RecordType[] = ['profile', 'subscription', 'orders', 'campaignReports'];
/** A record type passed as the first argument of a cache call: `cache.load<T>('profile', ...`. */
const CACHE_CALL = new RegExp(`\\(\\s*'(${RECORD_TYPES.join('|')})'\\s*,`, 'g');

export function connectorFacts(root: string, platform: Platform): ConnectorFacts {
  const dir = join(root, 'platforms', platform, 'client');
  const sources = readdirSync(dir)
    .filter((file) => file.endsWith('.ts'))
    .sort()
    .map((file) => readFileSync(join(dir, file), 'utf8'));
  const endpoints = new Set<string>();
  const recordTypes = new Set<RecordType>();
  for (const source of sources) {
    for (const match of source.matchAll(ENDPOINT)) if (match[1]) endpoints.add(match[1]);
    for (const match of source.matchAll(CACHE_CALL)) recordTypes.add(match[1] as RecordType);
  }
  if (endpoints.size === 0)
    throw new Error(
      `platforms/${platform}/client: found no '<METHOD> /path' endpoint label; the data-flow generator needs updating`,
    );
  return {
    endpoints: [...endpoints].sort((a, b) => (a.split(' ')[1] ?? '').localeCompare(b.split(' ')[1] ?? '')),
    recordTypes: RECORD_TYPES.filter((type) => recordTypes.has(type)),
  };
}

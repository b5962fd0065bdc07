import type { Platform } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResponseHeaders } from './client.js';

/**
 * What the platforms say, response by response, about the API version they served: the version in
 * use (Shopify's `X-Shopify-API-Version`, Meta's `facebook-api-version`), and any deprecation
 * (`X-Shopify-API-Deprecated-Reason`, the standard `Deprecation` and `Sunset` headers). One record
 * per platform, last response wins, for health and monitoring to read; a new deprecation is logged
 * once as a warning, not on every response.
 */
export interface ApiVersionRecord {
  /** The version the platform says it served; null when it does not say. */
  inUse: string | null;
  /** The version the connector asked for (in its base URL), when it asks for one. */
  requested: string | null;
  /** Why the platform flags our usage as deprecated (Shopify names the deprecated items). */
  deprecatedReason: string | null;
  /** The `Deprecation` header as sent (an HTTP date, `@<epoch>` or `true`). */
  deprecation: string | null;
  /** The `Sunset` header as sent: when the version or endpoint stops answering. */
  sunset: string | null;
  /** When a response last said this (ISO instant). */
  seenAt: string;
}

export type ApiVersionObservation = Omit<ApiVersionRecord, 'seenAt'>;

const records = new Map<Platform, ApiVersionRecord>();
/** Deprecations already logged, so each is a warning once per process, not once per call. */
const warned = new Set<string>();

function headerValue(headers: ResponseHeaders, name: string): string | null {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? null : first.trim();
}

/**
 * Reads one response's version headers. `versionHeader` names the platform's own header for the
 * version served, and `deprecatedReasonHeader` its own deprecation header, when it has them.
 */
export function readApiVersion(
  headers: ResponseHeaders,
  names: { versionHeader?: string; deprecatedReasonHeader?: string; requested?: string | null },
): ApiVersionObservation {
  return {
    inUse: names.versionHeader ? headerValue(headers, names.versionHeader) : null,
    requested: names.requested ?? null,
    deprecatedReason: names.deprecatedReasonHeader
      ? headerValue(headers, names.deprecatedReasonHeader)
      : null,
    deprecation: headerValue(headers, 'deprecation'),
    sunset: headerValue(headers, 'sunset'),
  };
}

/** The observation says something worth keeping: a version or a deprecation signal. */
function informative(observation: ApiVersionObservation): boolean {
  return (
    observation.inUse !== null ||
    observation.deprecatedReason !== null ||
    observation.deprecation !== null ||
    observation.sunset !== null
  );
}

/**
 * Stores what a response said about the platform's API version. Logs a warning the first time a
 * deprecation, a sunset, or a served version other than the requested one is seen.
 */
export function recordApiVersion(
  platform: Platform,
  observation: ApiVersionObservation,
  logger: Logger,
  now: number = Date.now(),
): void {
  if (!informative(observation)) return;
  records.set(platform, { ...observation, seenAt: new Date(now).toISOString() });
  const mismatch =
    observation.requested !== null &&
    observation.inUse !== null &&
    observation.requested !== observation.inUse;
  if (!observation.deprecatedReason && !observation.deprecation && !observation.sunset && !mismatch) return;
  const key = [
    platform,
    observation.inUse,
    observation.requested,
    observation.deprecatedReason,
    observation.deprecation,
    observation.sunset,
  ].join('|');
  if (warned.has(key)) return;
  warned.add(key);
  logger.warn(
    {
      platform,
      apiVersion: observation.inUse,
      requestedApiVersion: observation.requested,
      deprecatedReason: observation.deprecatedReason,
      deprecation: observation.deprecation,
      sunset: observation.sunset,
    },
    mismatch
      ? 'platform served another API version than the one requested: move to a supported version'
      : 'platform flags the API version or an endpoint in use as deprecated: move to a supported version',
  );
}

/** The last version record of one platform; undefined until a response said something. */
export function apiVersionRecord(platform: Platform): ApiVersionRecord | undefined {
  return records.get(platform);
}

/** Every platform's version record, for health and monitoring. */
export function apiVersionRecords(): Partial<Record<Platform, ApiVersionRecord>> {
  return Object.fromEntries(records);
}

/** Forgets every record and logged warning (tests start from nothing). */
export function resetApiVersionRecords(): void {
  records.clear();
  warned.clear();
}

import type { Platform } from '../errors.js';
import { cacheMetrics } from './metrics.js';
import type { CacheStore } from './store.js';

/**
 * The kinds of upstream record a connector caches, each with its own time to live:
 * - `profile`: a CRM customer (and CRM list definitions);
 * - `subscription`: an email-list member (status, rating, engagement);
 * - `orders`: a shop customer and their orders;
 * - `campaignReports`: campaign figures over a date range (ad insights, email campaigns, orders by range).
 */
export type RecordType = 'profile' | 'subscription' | 'orders' | 'campaignReports';

/** Seconds each record type stays cached; 0 turns caching of that type off. */
export type RecordTtls = Record<RecordType, number>;

/** A cached absence ("HubSpot has no such contact") is stored too, so misses do not hammer upstream. */
interface Entry<T> {
  v: T | null;
}

/** The key layout, public so the webhook work can invalidate a record from another process. */
export function recordKey(platform: Platform, account: string, type: RecordType, id: string): string {
  return `rec:${platform}:${account}:${type}:${id}`;
}

/**
 * Read-through cache of one platform account's records. Keys carry the platform and the account,
 * so two tenants (two HubSpot portals) never share an entry. Errors are never cached.
 */
export class RecordCache {
  constructor(
    private readonly store: CacheStore,
    readonly platform: Platform,
    readonly account: string,
    private readonly ttls: RecordTtls,
  ) {}

  private key(type: RecordType, id: string): string {
    return recordKey(this.platform, this.account, type, id);
  }

  /** Cached values for the ids that have one (null = known absent); the others are left out. */
  async getMany<T>(type: RecordType, ids: readonly string[]): Promise<Map<string, T | null>> {
    const out = new Map<string, T | null>();
    if (this.ttls[type] === 0 || ids.length === 0) return out;
    const entries = await this.store.getMany<Entry<T>>(ids.map((id) => this.key(type, id)));
    ids.forEach((id, i) => {
      const entry = entries[i];
      if (entry && typeof entry === 'object' && 'v' in entry) out.set(id, entry.v);
    });
    const labels = { platform: this.platform, type };
    cacheMetrics.hits.inc(labels, out.size);
    cacheMetrics.misses.inc(labels, ids.length - out.size);
    return out;
  }

  async setMany<T>(type: RecordType, entries: Iterable<readonly [string, T | null]>): Promise<void> {
    const ttl = this.ttls[type];
    if (ttl === 0) return;
    const writes: Promise<void>[] = [];
    for (const [id, value] of entries)
      writes.push(this.store.set(this.key(type, id), { v: value } satisfies Entry<T>, ttl * 1000));
    await Promise.all(writes);
  }

  /** Drops one record, so the next read goes upstream (called when a platform says it changed). */
  async invalidate(type: RecordType, id: string): Promise<void> {
    await this.store.delete(this.key(type, id));
  }

  /**
   * Answers every id: from the cache where possible, from `fetch` for the rest (which may answer an
   * Error for an id; errors are passed through and not cached).
   */
  async load<T>(
    type: RecordType,
    ids: readonly string[],
    fetch: (missing: readonly string[]) => Promise<Map<string, T | null | Error>>,
  ): Promise<Map<string, T | null | Error>> {
    const cached = await this.getMany<T>(type, ids);
    const missing = ids.filter((id) => !cached.has(id));
    const out = new Map<string, T | null | Error>(cached);
    if (missing.length === 0) return out;
    const fetched = await fetch(missing);
    const toStore: [string, T | null][] = [];
    for (const id of missing) {
      const value = fetched.get(id) ?? null;
      out.set(id, value);
      if (!(value instanceof Error)) toStore.push([id, value]);
    }
    await this.setMany(type, toStore);
    return out;
  }
}

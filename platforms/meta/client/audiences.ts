import { randomInt } from 'node:crypto';
import type { RequestContext } from '../../../lib/request-context.js';
import type { UpstreamClient } from '../../../lib/upstream/client.js';
import type { RowResult } from '../../../lib/upstream/writes.js';
import { batchesOf, batchSize } from './batches.js';
import type { PhoneOptions } from './hashing.js';
import { AUDIENCE_KEYS, audienceRow, type AudienceKey, type CustomerIdentity } from './identity.js';
import { AUDIENCE_ENDPOINTS } from './limits.js';
import { audienceUsersResponse, customAudienceCreated } from './schemas.js';

/**
 * Customer-file custom audiences: create one, add people to it and remove them
 * (`POST|DELETE /{audience-id}/users`), each identifier normalised and SHA-256 hashed here.
 * An upload of any size is one session (`session_id`, `batch_seq` from 1, `last_batch_flag` on the
 * last part, `estimated_num_total`) of parts of up to 10,000 rows, sent in order.
 *
 * Idempotent: an audience is a set of people, so adding someone already in it or removing someone
 * who is not changes nothing, and a failed upload can be sent again whole (a new session, or the
 * same parts of the same session: Meta and the sandbox do not count a repeated part twice). The
 * uploads run at background priority through the connector's throttle (the ad account's
 * `custom_audience` budget) and breaker.
 */

export const MAX_ROWS_PER_REQUEST = 10_000;
const AUDIENCE_ID = /^\d{1,20}$/;

/** One person to add or remove, with the caller's key for them (a sync's primary key). */
export interface AudienceMember extends CustomerIdentity {
  key: string;
}

export type CustomerFileSource =
  'USER_PROVIDED_ONLY' | 'PARTNER_PROVIDED_ONLY' | 'BOTH_USER_AND_PARTNER_PROVIDED';

export interface AudienceUploadOptions {
  /** The keys each row carries, in Meta's multi-key schema. @default ['EMAIL'] */
  keys?: readonly AudienceKey[];
  /** Rows per request, 1..10,000. @default 10000 (Meta's maximum: fewest calls) */
  batchSize?: number;
  /** For phone numbers written without a country code. @default none */
  phone?: PhoneOptions;
  /** The upload session's id (a caller resuming an upload names the one it started). @default random */
  sessionId?: number;
  /** Called after each acknowledged part, in order (a caller may checkpoint there). */
  onBatch?: (part: AudiencePartResult) => void;
}

export interface AudiencePartResult {
  batchSeq: number;
  rows: number;
  received: number;
  invalid: number;
}

export interface AudienceUploadResult {
  /**
   * Each person in the order given, by key: `accepted` once Meta received their part (`upserted`
   * for an addition, `archived` for a removal), or `rejected` (`NOTHING_TO_MATCH`) when they had no
   * value for any of the keys and were not sent. Meta does not say which rows it could not use,
   * only how many (`invalid`) and a sample.
   */
  rows: RowResult[];
  audienceId: string;
  sessionId: string;
  /** Requests made: ceil(sent / batchSize). */
  calls: number;
  /** Rows sent. */
  sent: number;
  /** Rows Meta received (`num_received`, over every part). */
  received: number;
  /** Rows Meta could not use (`num_invalid_entries`), with its sample of them. */
  invalid: number;
  invalidSamples: { entry: string; reason: string }[];
}

export class MetaAudiences {
  constructor(
    private readonly http: UpstreamClient,
    /** `/act_<ad account id>`: where the account's audiences are created. */
    private readonly accountPath: string,
  ) {}

  /** Creates an empty customer-file audience in the ad account; answers its id. */
  async create(
    ctx: RequestContext,
    audience: { name: string; description?: string; customerFileSource?: CustomerFileSource },
  ): Promise<string> {
    if (audience.name.trim().length === 0) throw new RangeError('an audience needs a name');
    const created = await this.http.json(
      ctx,
      {
        method: 'POST',
        endpoint: AUDIENCE_ENDPOINTS.create,
        path: `${this.accountPath}/customaudiences`,
        body: {
          name: audience.name,
          subtype: 'CUSTOM',
          customer_file_source: audience.customerFileSource ?? 'USER_PROVIDED_ONLY',
          ...(audience.description ? { description: audience.description } : {}),
        },
      },
      customAudienceCreated,
    );
    return created.id;
  }

  /** Adds `people` to the audience in one session (see the module comment). */
  addUsers(
    ctx: RequestContext,
    audienceId: string,
    people: readonly AudienceMember[],
    options: AudienceUploadOptions = {},
  ): Promise<AudienceUploadResult> {
    return this.upload(ctx, 'add', audienceId, people, options);
  }

  /** Removes `people` from the audience in one session, matched on the same keys as added. */
  removeUsers(
    ctx: RequestContext,
    audienceId: string,
    people: readonly AudienceMember[],
    options: AudienceUploadOptions = {},
  ): Promise<AudienceUploadResult> {
    return this.upload(ctx, 'remove', audienceId, people, options);
  }

  /**
   * Sends one part of an upload session the caller drives (a sync writing in batches, checkpointing
   * after each): `batchSeq` from 1, `last` on the final part, the same `sessionId` for every part
   * (and again after a restart: Meta does not count a repeated part twice). Rows come back in the
   * order given; people with no value for any key are rejected (`NOTHING_TO_MATCH`) and not sent,
   * and a part of nothing but those makes no call.
   */
  async uploadPart(
    ctx: RequestContext,
    operation: 'add' | 'remove',
    audienceId: string,
    people: readonly AudienceMember[],
    part: { sessionId: number; batchSeq: number; last: boolean; estimatedTotal: number },
    options: Pick<AudienceUploadOptions, 'keys' | 'phone'> = {},
  ): Promise<Omit<AudienceUploadResult, 'sessionId' | 'audienceId'>> {
    if (people.length > MAX_ROWS_PER_REQUEST)
      throw new RangeError(`a part holds at most ${MAX_ROWS_PER_REQUEST} people, got ${people.length}`);
    const result = await this.upload(ctx, operation, audienceId, people, {
      ...options,
      sessionId: part.sessionId,
      firstBatchSeq: part.batchSeq,
      lastPart: part.last,
      estimatedTotal: part.estimatedTotal,
    });
    const { sessionId: _session, audienceId: _audience, ...rest } = result;
    return rest;
  }

  private async upload(
    ctx: RequestContext,
    operation: 'add' | 'remove',
    audienceId: string,
    people: readonly AudienceMember[],
    options: AudienceUploadOptions & {
      /** uploadPart: this part's `batch_seq`, whether it is the session's last, the session's total. */
      firstBatchSeq?: number;
      lastPart?: boolean;
      estimatedTotal?: number;
    },
  ): Promise<AudienceUploadResult> {
    if (!AUDIENCE_ID.test(audienceId))
      throw new RangeError(`audienceId must be Meta's numeric id, got ${audienceId}`);
    const keys = options.keys ?? ['EMAIL'];
    if (
      keys.length === 0 ||
      new Set(keys).size !== keys.length ||
      !keys.every((k) => AUDIENCE_KEYS.includes(k))
    )
      throw new RangeError(`keys must be distinct audience keys (${AUDIENCE_KEYS.join(', ')})`);
    const size = batchSize(options.batchSize, MAX_ROWS_PER_REQUEST, 'batchSize');
    const sessionId = options.sessionId ?? randomInt(1, 2 ** 47);
    if (!Number.isSafeInteger(sessionId) || sessionId < 1)
      throw new RangeError(`sessionId must be a positive integer, got ${sessionId}`);
    const change = operation === 'add' ? 'upserted' : 'archived';
    // Each person's row, in the order given: rejected now, or accepted once their part is.
    const results: (RowResult | undefined)[] = [];
    const rows: { at: number; key: string; values: string[] }[] = [];
    for (const [at, person] of people.entries()) {
      const values = audienceRow(keys, person, options.phone ?? {});
      if (values) rows.push({ at, key: person.key, values });
      else
        results[at] = {
          status: 'rejected',
          key: person.key,
          code: 'NOTHING_TO_MATCH',
          reason: `no valid value for any of ${keys.join(', ')}`,
          retryable: false,
        };
    }
    const result: Omit<AudienceUploadResult, 'rows'> = {
      audienceId,
      sessionId: String(sessionId),
      calls: 0,
      sent: 0,
      received: 0,
      invalid: 0,
      invalidSamples: [],
    };
    const parts = batchesOf(rows, size);
    for (const [index, part] of parts.entries()) {
      const batchSeq = (options.firstBatchSeq ?? 1) + index;
      const last = index === parts.length - 1 && (options.lastPart ?? true);
      const answer = await this.http.json(
        ctx,
        {
          method: operation === 'add' ? 'POST' : 'DELETE',
          endpoint: operation === 'add' ? AUDIENCE_ENDPOINTS.add : AUDIENCE_ENDPOINTS.remove,
          path: `/${audienceId}/users`,
          body: {
            payload: { schema: keys, data: part.map((row) => row.values) },
            session: {
              session_id: sessionId,
              batch_seq: batchSeq,
              last_batch_flag: last,
              estimated_num_total: options.estimatedTotal ?? rows.length,
            },
          },
          // Safe to repeat: membership is a set and a repeated part is not counted twice.
          idempotent: true,
          priority: 'background',
        },
        audienceUsersResponse,
      );
      for (const { at, key } of part) results[at] = { status: 'accepted', key, change };
      result.calls += 1;
      result.sent += part.length;
      result.received += answer.num_received;
      result.invalid += answer.num_invalid_entries;
      result.invalidSamples.push(...answer.invalid_entry_samples);
      options.onBatch?.({
        batchSeq,
        rows: part.length,
        received: answer.num_received,
        invalid: answer.num_invalid_entries,
      });
    }
    return { ...result, rows: results.filter((row): row is RowResult => row !== undefined) };
  }
}

import type { RequestContext } from '../../../lib/request-context.js';
import type { UpstreamClient } from '../../../lib/upstream/client.js';
import { parseUpstream } from '../../../lib/upstream/parse.js';
import type { RowResult } from '../../../lib/upstream/writes.js';
import { batchWriteResponse, createdNote, writeErrorBody, type BatchWriteError } from './schemas.js';

/**
 * Writes to HubSpot contacts, for actions and syncs: batch update properties by record id, batch
 * upsert by email (creating the contacts no address matches), 100 inputs a call, and notes on a
 * contact. Batches answer per input (accepted, or rejected with HubSpot's code and message) so a
 * caller can record and retry the inputs HubSpot refused; every input carries an
 * `objectWriteTraceId`, which makes HubSpot answer a partial failure as 207 Multi-Status (the good
 * inputs written) rather than failing the whole batch. A call that fails as a whole throws an
 * UpstreamError (see `writeFailure` for whether it may have applied).
 *
 * Batch update and upsert are idempotent and retried like reads after a 429, 5xx or timeout.
 * Creating a note is not: it is never retried, and after an ambiguous failure the note may exist.
 * Everything runs at background priority through the connector's own throttle (ten-second window
 * and daily limit: a batch counts as one call) and breaker, behind the graph's reads.
 */

/** HubSpot's cap on inputs per batch write. */
export const HUBSPOT_BATCH_WRITE = 100;

/** Property values by HubSpot's internal name (`lifecyclestage`, `total_revenue`); null clears one. */
export type ContactPropertyValues = Record<string, string | number | boolean | null>;

export interface ContactUpdate {
  /** HubSpot's record id (`hs_object_id`). */
  id: string;
  properties: ContactPropertyValues;
}

export interface ContactUpsert {
  email: string;
  properties: ContactPropertyValues;
}

export interface NoteInput {
  contactId: string;
  /** The note's text (HTML allowed, as HubSpot shows it); at most 65,536 characters. */
  body: string;
  /** When the note is dated on the contact's timeline. */
  timestamp: Date;
}

/** HubSpot's association type from a note to a contact. */
const NOTE_TO_CONTACT = 202;

/** Categories of a per-input error that a later try of the same input may clear. */
const PASSING = new Set(['CONFLICT', 'RATE_LIMITS', 'INTERNAL_ERROR', 'TIMEOUT']);

/** A per-input error as a rejected row: the first field code when HubSpot names one. */
function rejected(key: string, error: BatchWriteError): RowResult {
  const details = (error.errors ?? []).map((e) => e.message);
  return {
    status: 'rejected',
    key,
    code: error.errors?.find((e) => e.code)?.code ?? error.category,
    reason: (details.length > 0 ? details.join('; ') : error.message).slice(0, 500),
    retryable: PASSING.has(error.category),
  };
}

const toWire = (properties: ContactPropertyValues) =>
  Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, v === null ? '' : String(v)]));

export class HubSpotContactWriter {
  constructor(
    private readonly http: UpstreamClient,
    /** Forgets what the read cache holds for these contacts. */
    private readonly invalidate: (keys: readonly { id?: string; email?: string }[]) => Promise<void>,
  ) {}

  private checkSize(n: number): void {
    if (n > HUBSPOT_BATCH_WRITE)
      throw new RangeError(`a batch write takes at most ${HUBSPOT_BATCH_WRITE} inputs, got ${n}`);
  }

  /** One batch call; answers the results and errors keyed by input index. */
  private async batch(
    ctx: RequestContext,
    action: 'update' | 'upsert',
    inputs: readonly Record<string, unknown>[],
  ) {
    const endpoint = `POST /crm/v3/objects/contacts/batch/${action}`;
    return this.http.json(
      ctx,
      {
        method: 'POST',
        endpoint,
        path: `/crm/v3/objects/contacts/batch/${action}`,
        body: { inputs: inputs.map((input, i) => ({ ...input, objectWriteTraceId: String(i) })) },
        // Writing the same values again leaves the contacts as the first write did.
        idempotent: true,
        priority: 'background',
      },
      batchWriteResponse,
    );
  }

  /** The error of each input, by index, from the trace id HubSpot echoes (or the id it names). */
  private errorsByIndex(
    errors: readonly BatchWriteError[],
    keyIndex: Map<string, number>,
  ): Map<number, BatchWriteError> {
    const out = new Map<number, BatchWriteError>();
    for (const error of errors) {
      const traced = (error.context?.['objectWriteTraceId'] ?? []).map(Number);
      const named = (error.context?.['ids'] ?? []).map((id) => keyIndex.get(id.toLowerCase()));
      for (const index of [...traced, ...named])
        if (index !== undefined && !out.has(index)) out.set(index, error);
    }
    return out;
  }

  /**
   * Sets properties on up to 100 contacts by record id (`POST …/contacts/batch/update`). Rows come
   * back in the order given; an unknown contact (`OBJECT_NOT_FOUND`), an unknown or read-only
   * property, or a value of the wrong type rejects that input alone.
   */
  async batchUpdateContacts(ctx: RequestContext, updates: readonly ContactUpdate[]): Promise<RowResult[]> {
    this.checkSize(updates.length);
    if (updates.length === 0) return [];
    const keyIndex = new Map(updates.map((u, i) => [u.id.toLowerCase(), i]));
    if (keyIndex.size !== updates.length)
      throw new RangeError('a batch update names each contact once; one is repeated');
    const body = await this.batch(
      ctx,
      'update',
      updates.map((u) => ({ id: u.id, properties: toWire(u.properties) })),
    );
    const written = new Map(body.results.map((r) => [r.id, r]));
    const errors = this.errorsByIndex(body.errors ?? [], keyIndex);
    const rows = updates.map((u, i): RowResult => {
      const error = errors.get(i);
      if (error) return rejected(u.id, error);
      return written.has(u.id)
        ? { status: 'accepted', key: u.id, change: 'updated', id: u.id }
        : notInResponse(u.id);
    });
    await this.invalidate(rows.filter((r) => r.status === 'accepted').map((r) => ({ id: r.key })));
    return rows;
  }

  /**
   * Creates or updates up to 100 contacts by email (`POST …/contacts/batch/upsert`, `idProperty:
   * email`). Rows come back in the order given, `created` or `updated` with the record id; an
   * invalid address or property value rejects that input alone.
   */
  async batchUpsertContactsByEmail(
    ctx: RequestContext,
    upserts: readonly ContactUpsert[],
  ): Promise<RowResult[]> {
    this.checkSize(upserts.length);
    if (upserts.length === 0) return [];
    const keys = upserts.map((u) => u.email.trim().toLowerCase());
    const keyIndex = new Map(keys.map((k, i) => [k, i]));
    if (keyIndex.size !== upserts.length)
      throw new RangeError('a batch upsert names each address once; one is repeated');
    const body = await this.batch(
      ctx,
      'upsert',
      upserts.map((u, i) => ({
        idProperty: 'email',
        id: keys[i],
        // The address in the properties too, so each result says whose it is.
        properties: { email: keys[i], ...toWire(u.properties) },
      })),
    );
    const written = new Map(
      body.results.flatMap((r) => {
        const email = r.properties['email']?.toLowerCase();
        return email ? [[email, r] as const] : [];
      }),
    );
    const errors = this.errorsByIndex(body.errors ?? [], keyIndex);
    const rows = keys.map((key, i): RowResult => {
      const error = errors.get(i);
      if (error) return rejected(key, error);
      const result = written.get(key);
      if (!result) return notInResponse(key);
      return { status: 'accepted', key, change: result.new === true ? 'created' : 'updated', id: result.id };
    });
    await this.invalidate(
      rows.flatMap((r) => (r.status === 'accepted' ? [{ email: r.key, ...(r.id ? { id: r.id } : {}) }] : [])),
    );
    return rows;
  }

  /**
   * Adds a note to a contact's timeline (`POST /crm/v3/objects/notes`, associated with type 202).
   * NOT idempotent: it is sent once and never retried, since a retry after a lost answer would add
   * the note twice. When it throws, `writeFailure(error)` says whether the note may exist
   * (`ambiguous`: check the contact's notes before sending it again). A refusal (the contact does
   * not exist, a property HubSpot rejects) is a rejected row, keyed by the contact id.
   */
  async createNote(ctx: RequestContext, note: NoteInput): Promise<RowResult> {
    const endpoint = 'POST /crm/v3/objects/notes';
    const response = await this.http.send(ctx, {
      method: 'POST',
      endpoint,
      path: '/crm/v3/objects/notes',
      body: {
        properties: { hs_timestamp: note.timestamp.toISOString(), hs_note_body: note.body },
        associations: [
          {
            to: { id: note.contactId },
            types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: NOTE_TO_CONTACT }],
          },
        ],
      },
      accept: [400],
      idempotent: false,
      priority: 'background',
    });
    if (response.status === 400) {
      const parsed = writeErrorBody.safeParse(response.body);
      const data = parsed.success ? parsed.data : {};
      return {
        status: 'rejected',
        key: note.contactId,
        code: data.errors?.find((e) => e.code)?.code ?? data.category ?? 'HTTP 400',
        reason: (
          data.errors?.map((e) => e.message).join('; ') ||
          data.message ||
          'HubSpot refused the note'
        ).slice(0, 500),
        retryable: false,
      };
    }
    const created = parseUpstream('hubspot', endpoint, createdNote, response.body);
    return { status: 'accepted', key: note.contactId, change: 'created', id: created.id };
  }
}

function notInResponse(key: string): RowResult {
  return {
    status: 'rejected',
    key,
    code: 'NOT_IN_RESPONSE',
    reason: 'HubSpot answered the batch without a word about this input',
    retryable: true,
  };
}

import type { RequestContext } from '../../../lib/request-context.js';
import type { UpstreamClient, UpstreamResponse } from '../../../lib/upstream/client.js';
import { parseUpstream } from '../../../lib/upstream/parse.js';
import type { RowResult } from '../../../lib/upstream/writes.js';
import { problemBody } from './protocol.js';
import type { EmailSubscriptionStatus } from './records.js';
import { batchSubscribeResponse, writtenMember } from './schemas.js';

/**
 * Writes to one Mailchimp audience, for actions and syncs: upsert a member, set its tags, archive
 * it, and batch subscribe/update up to 500 at a time. Each answers per row (accepted, or rejected
 * with Mailchimp's reason) so a caller can record and retry the rows Mailchimp refused; a call that
 * fails as a whole throws an UpstreamError (see `writeFailure` for whether it may have applied).
 *
 * Every write is idempotent (PUT, tags, archive, and batch subscribe with `updateExisting`), so the
 * shared client retries a 429, 5xx or timeout as it does a read. All of them run at background
 * priority through the connector's own throttle and breaker: they queue behind the graph's reads
 * and leave part of the connection cap to them.
 */

/** Statuses a write may give a member (`ARCHIVED` comes only from `archiveMember`). */
export type MemberWriteStatus = Exclude<EmailSubscriptionStatus, 'ARCHIVED'>;

/** Merge field values by tag (`FNAME`, `LTV`); numbers are sent as numbers. */
export type MergeFields = Record<string, string | number>;

export interface MemberUpsert {
  email: string;
  /** Status of a member who is new to the audience (or archived and coming back). */
  statusIfNew: MemberWriteStatus;
  /** Status to set on a member already in the audience; absent leaves theirs as it is. */
  status?: MemberWriteStatus;
  mergeFields?: MergeFields;
}

export interface BatchMember {
  email: string;
  /** Set on new members, and on existing ones when the batch updates existing members. */
  status: MemberWriteStatus;
  mergeFields?: MergeFields;
  /** Tag names to add (with `replaceTags`, the member's whole set). */
  tags?: readonly string[];
}

export interface TagChange {
  name: string;
  /** true adds the tag, false removes it. */
  active: boolean;
}

/** A batch's rows in the order given, with Mailchimp's totals. */
export interface BatchWriteResult {
  rows: RowResult[];
  created: number;
  updated: number;
  rejected: number;
}

/** Mailchimp's cap on members per batch subscribe call. */
export const MAILCHIMP_BATCH_MEMBERS = 500;

const normaliseEmail = (email: string) => email.trim().toLowerCase();
const toMailchimpStatus = (status: MemberWriteStatus) => status.toLowerCase();

/** A 4xx answer for one row, from Mailchimp's problem body: its title is the code. */
function refusal(key: string, response: UpstreamResponse): RowResult {
  const parsed = problemBody.safeParse(response.body);
  const data = parsed.success ? parsed.data : {};
  const fields = (data.errors ?? []).map((e) => `${e.field ?? '?'}: ${e.message ?? 'invalid'}`).join('; ');
  return {
    status: 'rejected',
    key,
    code: data.title ?? `HTTP ${response.status}`,
    reason: [data.detail, fields].filter(Boolean).join(' ') || `Mailchimp answered ${response.status}`,
    // The member not being there yet is the one refusal a later try (after an upsert) can clear.
    retryable: response.status === 404,
  };
}

export class MailchimpAudienceWriter {
  constructor(
    private readonly http: UpstreamClient,
    private readonly listPath: string,
    /** Forgets what the read cache holds for these addresses (and the audience size if `grew`). */
    private readonly invalidate: (emails: readonly string[], grew: boolean) => Promise<void>,
    private readonly hash: (email: string) => string,
  ) {}

  /**
   * Adds the member, or updates them (`PUT /lists/{list_id}/members/{subscriber_hash}`). Rejected
   * with Mailchimp's reason when the address is invalid or looks fake, a merge field is wrong, or
   * the status would resubscribe someone who unsubscribed or bounced (`Member In Compliance State`).
   */
  async upsertMember(ctx: RequestContext, member: MemberUpsert): Promise<RowResult> {
    const key = normaliseEmail(member.email);
    const endpoint = 'PUT /lists/{list_id}/members/{subscriber_hash}';
    const response = await this.http.send(ctx, {
      method: 'PUT',
      endpoint,
      path: `${this.listPath}/members/${this.hash(key)}`,
      body: {
        email_address: member.email.trim(),
        status_if_new: toMailchimpStatus(member.statusIfNew),
        ...(member.status ? { status: toMailchimpStatus(member.status) } : {}),
        ...(member.mergeFields ? { merge_fields: member.mergeFields } : {}),
      },
      accept: [400],
      idempotent: true,
      priority: 'background',
    });
    if (response.status === 400) return refusal(key, response);
    const written = parseUpstream('mailchimp', endpoint, writtenMember, response.body);
    await this.invalidate([key], true);
    return { status: 'accepted', key, change: 'upserted', id: written.id };
  }

  /**
   * Adds and removes tags on a member (`POST …/members/{subscriber_hash}/tags`, 204). Rejected
   * (`Resource Not Found`, retryable) when the address is not in the audience yet.
   */
  async setMemberTags(ctx: RequestContext, email: string, tags: readonly TagChange[]): Promise<RowResult> {
    const key = normaliseEmail(email);
    const response = await this.http.send(ctx, {
      method: 'POST',
      endpoint: 'POST /lists/{list_id}/members/{subscriber_hash}/tags',
      path: `${this.listPath}/members/${this.hash(key)}/tags`,
      body: { tags: tags.map((t) => ({ name: t.name, status: t.active ? 'active' : 'inactive' })) },
      accept: [400, 404],
      // Setting a tag active (or inactive) twice leaves the member as once.
      idempotent: true,
      priority: 'background',
    });
    if (response.status >= 400) return refusal(key, response);
    await this.invalidate([key], false);
    return { status: 'accepted', key, change: 'updated' };
  }

  /**
   * Archives a member (`DELETE …/members/{subscriber_hash}`), how a mirror sync removes who left
   * the source; Mailchimp keeps their history and they can be added again. Someone not in the
   * audience is accepted as `unchanged`.
   */
  async archiveMember(ctx: RequestContext, email: string): Promise<RowResult> {
    const key = normaliseEmail(email);
    const response = await this.http.send(ctx, {
      method: 'DELETE',
      endpoint: 'DELETE /lists/{list_id}/members/{subscriber_hash}',
      path: `${this.listPath}/members/${this.hash(key)}`,
      accept: [404],
      idempotent: true,
      priority: 'background',
    });
    if (response.status === 404) return { status: 'accepted', key, change: 'unchanged' };
    await this.invalidate([key], true);
    return { status: 'accepted', key, change: 'archived' };
  }

  /**
   * Subscribes or updates up to 500 members in one call (`POST /lists/{list_id}`). Rows come back
   * in the order given: `created`, `updated`, or rejected with Mailchimp's `error_code` and reason.
   * With `updateExisting` (the default) existing members get the batch's status and fields, and the
   * call is safe to repeat; without it, existing members are rejected (`ERROR_CONTACT_EXISTS`) and a
   * repeat would reject the ones the first try created, so it is never retried.
   */
  async batchSubscribe(
    ctx: RequestContext,
    members: readonly BatchMember[],
    options: { updateExisting?: boolean; replaceTags?: boolean } = {},
  ): Promise<BatchWriteResult> {
    if (members.length > MAILCHIMP_BATCH_MEMBERS)
      throw new RangeError(
        `a batch subscribe takes at most ${MAILCHIMP_BATCH_MEMBERS} members, got ${members.length}`,
      );
    const keys = members.map((m) => normaliseEmail(m.email));
    const duplicate = keys.find((key, i) => keys.indexOf(key) !== i);
    if (duplicate !== undefined)
      throw new RangeError('a batch subscribe lists each address once; one is repeated');
    if (members.length === 0) return { rows: [], created: 0, updated: 0, rejected: 0 };
    const updateExisting = options.updateExisting ?? true;
    const endpoint = 'POST /lists/{list_id}';
    const body = await this.http.json(
      ctx,
      {
        method: 'POST',
        endpoint,
        path: this.listPath,
        body: {
          members: members.map((m) => ({
            email_address: m.email.trim(),
            status: toMailchimpStatus(m.status),
            ...(m.mergeFields ? { merge_fields: m.mergeFields } : {}),
            ...(m.tags ? { tags: m.tags } : {}),
          })),
          update_existing: updateExisting,
          ...(options.replaceTags ? { sync_tags: true } : {}),
        },
        idempotent: updateExisting,
        priority: 'background',
      },
      batchSubscribeResponse,
    );
    const found = new Map<string, RowResult>();
    for (const m of body.new_members) {
      const key = normaliseEmail(m.email_address);
      found.set(key, { status: 'accepted', key, change: 'created', id: m.id });
    }
    for (const m of body.updated_members) {
      const key = normaliseEmail(m.email_address);
      found.set(key, { status: 'accepted', key, change: 'updated', id: m.id });
    }
    for (const e of body.errors) {
      const key = normaliseEmail(e.email_address);
      const field = e.field ? ` (${e.field}: ${e.field_message ?? 'invalid'})` : '';
      found.set(key, {
        status: 'rejected',
        key,
        code: e.error_code ?? 'ERROR_GENERIC',
        reason: `${e.error}${field}`,
        retryable: false,
      });
    }
    const rows = keys.map(
      (key): RowResult =>
        found.get(key) ?? {
          status: 'rejected',
          key,
          code: 'NOT_IN_RESPONSE',
          reason: 'Mailchimp answered the batch without a word about this member',
          retryable: true,
        },
    );
    const written = rows.filter((r) => r.status === 'accepted').map((r) => r.key);
    await this.invalidate(written, body.new_members.length > 0);
    return {
      rows,
      created: body.new_members.length,
      updated: body.updated_members.length,
      rejected: rows.filter((r) => r.status === 'rejected').length,
    };
  }
}

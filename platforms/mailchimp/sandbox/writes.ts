import { z } from 'zod';
import { judgeEmail } from '../../../sandboxes/kit/emails.js';
import type { Route, SandboxRequest, SandboxResponse } from '../../../sandboxes/kit/types.js';
import { WRITABLE_STATUSES, type Audience, type MemberRefusal, type MemberWrite } from './audience.js';
import { readMergeFields } from './merge-fields.js';
import { subscriberHash, type AudienceEntry } from './members.js';
import { invalid, notFound, problem, type FieldProblem } from './problems.js';

/**
 * The audience writes actions and syncs use, checked as Mailchimp checks them: upsert one member
 * (`PUT …/members/{hash}`), add or remove its tags (`POST …/members/{hash}/tags`, 204), archive it
 * (`DELETE …/members/{hash}`, 204), and batch subscribe/update up to 500 members
 * (`POST /lists/{list_id}`), whose refused members come back in `errors[]` beside the others.
 */

/** Mailchimp's cap on members per batch subscribe call. */
export const MAX_BATCH_MEMBERS = 500;

const status = z.enum(WRITABLE_STATUSES);
const mergeFields = z.record(z.string(), z.unknown());

const putBody = z
  .object({
    email_address: z.string().optional(),
    status_if_new: status.optional(),
    status: status.optional(),
    merge_fields: mergeFields.optional(),
  })
  .loose();

const batchBody = z
  .object({
    members: z.array(
      z
        .object({
          email_address: z.string(),
          status,
          merge_fields: mergeFields.optional(),
          tags: z.array(z.string().min(1).max(100)).optional(),
        })
        .loose(),
    ),
    update_existing: z.boolean().optional(),
    sync_tags: z.boolean().optional(),
  })
  .loose();

const tagsBody = z
  .object({
    tags: z.array(
      z.object({ name: z.string().trim().min(1).max(100), status: z.enum(['active', 'inactive']) }),
    ),
    is_syncing: z.boolean().optional(),
  })
  .loose();

/** Zod's path in Mailchimp's notation: `members.item:3.status`. */
const fieldOf = (path: readonly PropertyKey[]) =>
  path.map((part) => (typeof part === 'number' ? `item:${part}` : String(part))).join('.') || 'body';

function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
): { data: z.output<S> } | { response: SandboxResponse } {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { data: parsed.data };
  const problems: FieldProblem[] = parsed.error.issues
    .slice(0, 20)
    .map((issue) => ({ field: fieldOf(issue.path), message: issue.message }));
  return { response: invalid(problems) };
}

/** Why an address cannot be written, in Mailchimp's words; undefined when it can. */
function addressRefusal(email: string): MemberRefusal | undefined {
  const verdict = judgeEmail(email.trim());
  if (verdict === 'valid') return undefined;
  return {
    title: 'Invalid Resource',
    detail:
      verdict === 'malformed'
        ? 'Please provide a valid email address.'
        : `${email} looks fake or invalid, please enter a real email address.`,
    errorCode: 'ERROR_GENERIC',
  };
}

export interface WriteRoutesOptions {
  audience: Audience;
  listId: string;
  member: (entry: AudienceEntry) => Record<string, unknown>;
}

export function memberWriteRoutes({ audience, listId, member }: WriteRoutesOptions): Route[] {
  const inList = (request: SandboxRequest) => request.params['listId'] === listId;
  /** The path's member key as a hash (it may be the hash, the address or a contact id). */
  const hashOf = (key: string) => (key.includes('@') ? subscriberHash(key) : key.toLowerCase());

  return [
    {
      method: 'PUT',
      path: '/3.0/lists/{listId}/members/{subscriberHash}',
      write: true,
      handle(request) {
        if (!inList(request)) return notFound();
        const parsed = parseBody(putBody, request.json);
        if ('response' in parsed) return parsed.response;
        const body = parsed.data;
        const key = request.params['subscriberHash'] ?? '';
        const existing = audience.find(key);
        const email = body.email_address ?? existing?.person.email;
        if (email === undefined)
          return invalid([
            {
              field: 'email_address',
              message: 'This value is required when the member is not in the audience.',
            },
          ]);
        if (subscriberHash(email.trim()) !== (existing?.subscriberHash ?? hashOf(key)))
          return problem(400, 'The email_address in the body does not match the subscriber hash in the URL.');
        const refused = addressRefusal(email);
        if (refused) return problem(400, refused.detail, { title: refused.title });
        const fields = readMergeFields(body.merge_fields ?? {});
        if ('problems' in fields)
          return problem(400, 'Your merge fields were invalid.', { errors: fields.problems });
        const write: MemberWrite = {
          email: email.trim(),
          ...(body.status ? { status: body.status } : {}),
          ...(body.status_if_new ? { statusIfNew: body.status_if_new } : {}),
          mergeFields: fields.values,
        };
        const outcome = audience.write(write, { updateExisting: true, at: Date.now() });
        if (!outcome.ok) return problem(400, outcome.detail, { title: outcome.title });
        return { status: 200, json: member(outcome.entry) };
      },
    },
    {
      method: 'POST',
      path: '/3.0/lists/{listId}/members/{subscriberHash}/tags',
      write: true,
      handle(request) {
        if (!inList(request)) return notFound();
        const parsed = parseBody(tagsBody, request.json);
        if ('response' in parsed) return parsed.response;
        const entry = audience.find(request.params['subscriberHash'] ?? '');
        if (!entry) return notFound();
        audience.setTags(
          entry,
          parsed.data.tags.map((t) => ({ name: t.name, active: t.status === 'active' })),
          Date.now(),
        );
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/3.0/lists/{listId}/members/{subscriberHash}',
      write: true,
      handle(request) {
        if (!inList(request)) return notFound();
        const entry = audience.find(request.params['subscriberHash'] ?? '');
        if (!entry) return notFound();
        audience.archive(entry, Date.now());
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/3.0/lists/{listId}',
      write: true,
      handle(request) {
        if (!inList(request)) return notFound();
        const raw = request.json as { members?: unknown } | undefined;
        if (Array.isArray(raw?.members) && raw.members.length > MAX_BATCH_MEMBERS)
          return invalid([
            {
              field: 'members',
              message: `You can add or update at most ${MAX_BATCH_MEMBERS} members per call; this one has ${raw.members.length}.`,
            },
          ]);
        const parsed = parseBody(batchBody, request.json);
        if ('response' in parsed) return parsed.response;
        const { members, update_existing: updateExisting = false, sync_tags: syncTags = false } = parsed.data;
        const skipDuplicates = request.query.get('skip_duplicate_check') === 'true';
        const seen = new Set<string>();
        const duplicates = new Set<string>();
        for (const m of members) {
          const hash = subscriberHash(m.email_address.trim());
          if (seen.has(hash)) duplicates.add(m.email_address);
          seen.add(hash);
        }
        if (duplicates.size > 0 && !skipDuplicates)
          return problem(
            400,
            `The batch lists ${[...duplicates].join(', ')} more than once; send each address once, or set skip_duplicate_check=true to keep the first.`,
          );

        const created: Record<string, unknown>[] = [];
        const updated: Record<string, unknown>[] = [];
        const errors: Record<string, unknown>[] = [];
        const done = new Set<string>();
        const at = Date.now();
        for (const m of members) {
          const hash = subscriberHash(m.email_address.trim());
          // skip_duplicate_check: the first appearance wins, later ones are ignored.
          if (done.has(hash)) continue;
          done.add(hash);
          const refused = addressRefusal(m.email_address);
          if (refused) {
            errors.push({
              email_address: m.email_address,
              error: refused.detail,
              error_code: refused.errorCode,
            });
            continue;
          }
          const fields = readMergeFields(m.merge_fields ?? {});
          if ('problems' in fields) {
            const first = fields.problems[0] as FieldProblem;
            errors.push({
              email_address: m.email_address,
              error: 'Your merge fields were invalid.',
              error_code: 'ERROR_GENERIC',
              field: first.field,
              field_message: first.message,
            });
            continue;
          }
          const outcome = audience.write(
            {
              email: m.email_address.trim(),
              status: m.status,
              mergeFields: fields.values,
              ...(m.tags ? { tags: m.tags } : {}),
            },
            { updateExisting, replaceTags: syncTags, at },
          );
          if (!outcome.ok) {
            errors.push({
              email_address: m.email_address,
              error: outcome.detail,
              error_code: outcome.errorCode,
            });
            continue;
          }
          (outcome.created ? created : updated).push(member(outcome.entry));
        }
        return {
          status: 200,
          json: {
            new_members: created,
            updated_members: updated,
            errors,
            total_created: created.length,
            total_updated: updated.length,
            error_count: errors.length,
            _links: [],
          },
        };
      },
    },
  ];
}

import { z } from 'zod';
import { judgeEmail } from '../../../sandboxes/kit/emails.js';
import type { Route, SandboxRequest, SandboxResponse } from '../../../sandboxes/kit/types.js';
import type { Customer } from '../../../sandboxes/world/world.js';
import type { Contacts } from './contacts.js';
import { error, toSimplePublicObject, type Json } from './objects.js';
import { checkProperties, type PropertyProblem } from './properties.js';

/**
 * Contact writes as HubSpot's CRM v3 takes them: `batch/update` by record id and `batch/upsert` by
 * email (creating the contacts no address matches), at most 100 inputs a call. The request is
 * checked first (shape, size, duplicate ids, the id property): any fault there refuses the whole
 * call with HubSpot's 400. Then each input: an unknown contact, an unknown or read-only property,
 * or a value of the wrong type is that input's error. HubSpot reports those per input (207
 * Multi-Status, the inputs that passed written) when every input carries an `objectWriteTraceId`;
 * otherwise one bad input fails the whole batch (400) and nothing is written.
 */

/** HubSpot's cap on inputs per batch call. */
export const MAX_BATCH_INPUTS = 100;

const input = z
  .object({
    id: z.union([z.string().min(1), z.number().int().transform(String)]),
    idProperty: z.string().optional(),
    objectWriteTraceId: z.string().min(1).optional(),
    properties: z.record(z.string(), z.unknown()),
  })
  .loose();
type Input = z.output<typeof input>;

/** What one input comes to: a write to make, or HubSpot's error for it. */
type Planned =
  | {
      ok: true;
      input: Input;
      apply: (at: number) => { customer: Customer; created: boolean; written: string[] };
    }
  | { ok: false; input: Input; error: Json };

function propertyError(inputAt: Input, problems: readonly PropertyProblem[]): Json {
  return {
    status: 'error',
    category: 'VALIDATION_ERROR',
    message: `Property values were not valid: ${JSON.stringify(problems)}`,
    context: {
      ids: [inputAt.id],
      ...(inputAt.objectWriteTraceId ? { objectWriteTraceId: [inputAt.objectWriteTraceId] } : {}),
    },
    errors: problems.map((p) => ({ message: p.message, code: p.error, context: { propertyName: [p.name] } })),
  };
}

function notFoundError(inputAt: Input): Json {
  return {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message: 'Object not found.  objectId are usually numeric.',
    context: {
      ids: [inputAt.id],
      ...(inputAt.objectWriteTraceId ? { objectWriteTraceId: [inputAt.objectWriteTraceId] } : {}),
    },
  };
}

/** The request's inputs, or HubSpot's 400 for a request it will not look into. */
function readInputs(request: SandboxRequest): { inputs: Input[] } | { response: SandboxResponse } {
  const body = request.json as { inputs?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !Array.isArray(body.inputs))
    return { response: error(400, 'VALIDATION_ERROR', 'Invalid input JSON: inputs is required') };
  if (body.inputs.length > MAX_BATCH_INPUTS)
    return {
      response: error(
        400,
        'VALIDATION_ERROR',
        `Batch input limit is ${MAX_BATCH_INPUTS}, got ${body.inputs.length}`,
      ),
    };
  const inputs: Input[] = [];
  for (const [i, raw] of body.inputs.entries()) {
    const parsed = input.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = ['inputs', i, ...(issue?.path ?? [])].join('.');
      return {
        response: error(
          400,
          'VALIDATION_ERROR',
          `Invalid input JSON: ${where}: ${issue?.message ?? 'invalid'}`,
        ),
      };
    }
    inputs.push(parsed.data);
  }
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const i of inputs) {
    const key = i.id.toLowerCase();
    if (seen.has(key)) repeated.add(i.id);
    seen.add(key);
  }
  if (repeated.size > 0)
    return {
      response: error(
        400,
        'VALIDATION_ERROR',
        `Duplicate IDs found in batch input: [${[...repeated].join(', ')}]. IDs must be unique`,
      ),
    };
  return { inputs };
}

/** The written properties plus the ones HubSpot always answers, as a result row. */
function resultOf(customer: Customer, written: readonly string[], extra: Json = {}): Json {
  return { ...toSimplePublicObject(customer, written), ...extra };
}

/** Applies the planned writes and answers as HubSpot does: 200, 207 with errors, or 400 atomically. */
function answer(planned: readonly Planned[], withNew: boolean): SandboxResponse {
  const startedAt = new Date().toISOString();
  const failed = planned.filter((p): p is Extract<Planned, { ok: false }> => !p.ok);
  const multiStatus = planned.every((p) => p.input.objectWriteTraceId !== undefined);
  if (failed.length > 0 && !multiStatus) {
    const first = failed[0]?.error ?? {};
    return {
      status: 400,
      json: {
        ...first,
        errors: failed.flatMap((f) => (Array.isArray(f.error['errors']) ? f.error['errors'] : [f.error])),
      },
    };
  }
  const at = Date.now();
  const results: Json[] = [];
  for (const p of planned) {
    if (!p.ok) continue;
    const { customer, created, written } = p.apply(at);
    results.push(resultOf(customer, written, withNew ? { new: created } : {}));
  }
  const done = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  if (failed.length === 0) return { status: 200, json: done };
  return { status: 207, json: { ...done, numErrors: failed.length, errors: failed.map((f) => f.error) } };
}

export function contactWriteRoutes(contacts: Contacts): Route[] {
  return [
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/update',
      write: true,
      handle(request) {
        const read = readInputs(request);
        if ('response' in read) return read.response;
        const byOther = read.inputs.find(
          (i) => i.idProperty !== undefined && i.idProperty !== 'hs_object_id',
        );
        if (byOther)
          return error(
            400,
            'VALIDATION_ERROR',
            `Unable to perform update/upsert by non-unique 0-1 property: ${byOther.idProperty}`,
          );
        const planned = read.inputs.map((i): Planned => {
          const customer = contacts.byId(i.id);
          if (!customer) return { ok: false, input: i, error: notFoundError(i) };
          const checked = checkProperties(i.properties);
          if ('problems' in checked)
            return { ok: false, input: i, error: propertyError(i, checked.problems) };
          return {
            ok: true,
            input: i,
            apply: (at) => {
              contacts.write(customer, checked.values, at);
              return { customer, created: false, written: Object.keys(checked.values) };
            },
          };
        });
        return answer(planned, false);
      },
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/upsert',
      write: true,
      handle(request) {
        const read = readInputs(request);
        if ('response' in read) return read.response;
        const byOther = read.inputs.find((i) => i.idProperty !== 'email');
        if (byOther)
          return error(
            400,
            'VALIDATION_ERROR',
            `Unable to perform update/upsert by non-unique 0-1 property: ${byOther.idProperty ?? 'hs_object_id'}`,
          );
        const planned = read.inputs.map((i): Planned => {
          const checked = checkProperties({ email: i.id, ...i.properties });
          const problems = 'problems' in checked ? checked.problems : [];
          if (judgeEmail(i.id) === 'malformed' && !problems.some((p) => p.name === 'email'))
            problems.unshift({
              isValid: false,
              message: `Email address ${i.id} is invalid`,
              error: 'INVALID_EMAIL',
              name: 'email',
            });
          if (problems.length > 0 || 'problems' in checked)
            return { ok: false, input: i, error: propertyError(i, problems) };
          const { email, ...rest } = checked.values;
          const written = Object.keys(checked.values);
          return {
            ok: true,
            input: i,
            apply: (at) => {
              const existing = contacts.byEmail(i.id);
              if (existing) {
                contacts.write(existing, i.properties['email'] === undefined ? rest : checked.values, at);
                return { customer: existing, created: false, written };
              }
              return { customer: contacts.create(email ?? i.id, rest, at), created: true, written };
            },
          };
        });
        return answer(planned, true);
      },
    },
  ];
}

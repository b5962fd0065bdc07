import { z } from 'zod';
import type { Route } from '../../../sandboxes/kit/types.js';
import type { World } from '../../../sandboxes/world/world.js';
import type { Contacts } from './contacts.js';
import { error, type Json } from './objects.js';
import type { PropertyProblem } from './properties.js';

/**
 * Notes on contacts, as HubSpot's engagements API takes them: `POST /crm/v3/objects/notes` with
 * `hs_timestamp` (required) and `hs_note_body`, associated to contacts with HubSpot's defined
 * type 202 (note to contact), answered 201; `GET /crm/v3/objects/notes/{noteId}` reads one back.
 * Creating a note is not idempotent: the same request twice makes two notes, as in HubSpot.
 */

/** HubSpot's defined association type from a note to a contact. */
export const NOTE_TO_CONTACT = 202;
/** HubSpot caps a note's body at 65,536 characters. */
const MAX_BODY = 65_536;

interface Note {
  id: string;
  body: string;
  timestamp: string;
  ownerId: string | null;
  contactIds: string[];
  createdAt: number;
}

/** Notes per world, so every HubSpot sandbox of one world reads the same ones. */
const notesByWorld = new WeakMap<World, Map<string, Note>>();

const createBody = z
  .object({
    properties: z.record(z.string(), z.unknown()),
    associations: z
      .array(
        z.object({
          to: z.object({ id: z.union([z.string().min(1), z.number().int().transform(String)]) }),
          types: z
            .array(z.object({ associationCategory: z.string(), associationTypeId: z.number().int() }))
            .min(1),
        }),
      )
      .optional(),
  })
  .loose();

const NOTE_PROPERTIES = new Set(['hs_timestamp', 'hs_note_body', 'hubspot_owner_id']);

/** `hs_timestamp` as HubSpot takes it: an ISO instant or epoch milliseconds. */
function timestampOf(value: unknown): string | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    const ms = Number(value);
    return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function toNoteJson(note: Note, withContacts: boolean): Json {
  const at = new Date(note.createdAt).toISOString();
  return {
    id: note.id,
    properties: {
      hs_createdate: at,
      hs_lastmodifieddate: at,
      hs_note_body: note.body,
      hs_object_id: note.id,
      hs_timestamp: note.timestamp,
      ...(note.ownerId ? { hubspot_owner_id: note.ownerId } : {}),
    },
    createdAt: at,
    updatedAt: at,
    archived: false,
    ...(withContacts
      ? {
          associations: {
            contacts: { results: note.contactIds.map((id) => ({ id, type: 'note_to_contact' })) },
          },
        }
      : {}),
  };
}

export function noteRoutes(world: World, contacts: Contacts): Route[] {
  let notes = notesByWorld.get(world);
  if (!notes) {
    notes = new Map();
    notesByWorld.set(world, notes);
  }
  const store = notes;

  return [
    {
      method: 'POST',
      path: '/crm/v3/objects/notes',
      write: true,
      handle(request) {
        const parsed = createBody.safeParse(request.json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return error(
            400,
            'VALIDATION_ERROR',
            `Invalid input JSON: ${(issue?.path ?? []).join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
          );
        }
        const { properties, associations = [] } = parsed.data;
        const problems: PropertyProblem[] = [];
        for (const name of Object.keys(properties)) {
          if (!NOTE_PROPERTIES.has(name))
            problems.push({
              isValid: false,
              message: `Property "${name}" does not exist`,
              error: 'PROPERTY_DOESNT_EXIST',
              name,
            });
        }
        const timestamp = timestampOf(properties['hs_timestamp']);
        if (properties['hs_timestamp'] === undefined)
          problems.push({
            isValid: false,
            message: 'hs_timestamp is required',
            error: 'REQUIRED_PROPERTY',
            name: 'hs_timestamp',
          });
        else if (!timestamp)
          problems.push({
            isValid: false,
            message: `${String(properties['hs_timestamp'])} is not a valid date-time: use an ISO 8601 instant or epoch milliseconds.`,
            error: 'INVALID_DATETIME',
            name: 'hs_timestamp',
          });
        const body = properties['hs_note_body'] === undefined ? '' : String(properties['hs_note_body']);
        if (body.length > MAX_BODY)
          problems.push({
            isValid: false,
            message: `hs_note_body is ${body.length} characters; at most ${MAX_BODY} are allowed.`,
            error: 'INVALID_STRING_LENGTH',
            name: 'hs_note_body',
          });
        if (problems.length > 0)
          return error(
            400,
            'VALIDATION_ERROR',
            `Property values were not valid: ${JSON.stringify(problems)}`,
            {
              errors: problems.map((p) => ({
                message: p.message,
                code: p.error,
                context: { propertyName: [p.name] },
              })),
            },
          );
        for (const association of associations) {
          const wrongType = association.types.find(
            (t) => t.associationCategory !== 'HUBSPOT_DEFINED' || t.associationTypeId !== NOTE_TO_CONTACT,
          );
          if (wrongType)
            return error(
              400,
              'VALIDATION_ERROR',
              `${wrongType.associationCategory} association type ${wrongType.associationTypeId} is not valid from a note to a contact; use HUBSPOT_DEFINED ${NOTE_TO_CONTACT}.`,
            );
          if (!contacts.byId(association.to.id))
            return error(
              400,
              'VALIDATION_ERROR',
              `One or more associations are invalid: no contact has id ${association.to.id}.`,
              {
                context: { ids: [association.to.id] },
              },
            );
        }
        const owner = properties['hubspot_owner_id'];
        const note: Note = {
          id: String(60_000_000_001 + store.size),
          body,
          timestamp: timestamp ?? new Date().toISOString(),
          ownerId: owner === undefined || owner === null ? null : String(owner),
          contactIds: [...new Set(associations.map((a) => a.to.id))],
          createdAt: Date.now(),
        };
        store.set(note.id, note);
        return { status: 201, json: toNoteJson(note, false) };
      },
    },
    {
      method: 'GET',
      path: '/crm/v3/objects/notes/{noteId}',
      handle(request) {
        const note = store.get(request.params['noteId'] ?? '');
        if (!note) return error(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.');
        const associations = request.query.getAll('associations').flatMap((v) => v.split(','));
        return { status: 200, json: toNoteJson(note, associations.includes('contacts')) };
      },
    },
  ];
}

import { z } from 'zod';

/** HubSpot CRM v3 payloads as documented (SDK models); only the fields the connector reads. */

const isoInstant = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 date-time');

export const simplePublicObject = z.object({
  id: z.string().min(1),
  properties: z.record(z.string(), z.string().nullable()),
  createdAt: isoInstant,
  updatedAt: isoInstant,
  archived: z.boolean().optional(),
});
export type SimplePublicObject = z.output<typeof simplePublicObject>;

export const contactsPage = z.object({
  results: z.array(simplePublicObject),
  paging: z.object({ next: z.object({ after: z.string().min(1) }).optional() }).optional(),
});

export const batchReadResponse = z.object({
  status: z.enum(['PENDING', 'PROCESSING', 'CANCELED', 'COMPLETE']),
  results: z.array(simplePublicObject),
  numErrors: z.number().int().optional(),
  errors: z
    .array(
      z.object({
        category: z.string(),
        message: z.string(),
        context: z.record(z.string(), z.array(z.string())).optional(),
      }),
    )
    .optional(),
});

export const searchResponse = z.object({
  total: z.number().int().min(0),
  results: z.array(simplePublicObject),
  paging: z.object({ next: z.object({ after: z.string().min(1) }).optional() }).optional(),
});

export const recordMemberships = z.object({
  results: z.array(
    z.object({
      listId: z.string().min(1),
      firstAddedTimestamp: isoInstant.optional(),
      lastAddedTimestamp: isoInstant.optional(),
    }),
  ),
  total: z.number().int().optional(),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

export const listsResponse = z.object({
  lists: z.array(z.object({ listId: z.string().min(1), name: z.string() })),
});

/** One input's error in a batch write (207): its category, message and the fields at fault. */
const batchWriteError = z.object({
  category: z.string(),
  message: z.string(),
  context: z.record(z.string(), z.array(z.string())).optional(),
  errors: z
    .array(
      z.object({
        message: z.string(),
        code: z.string().optional(),
        context: z.record(z.string(), z.array(z.string())).optional(),
      }),
    )
    .optional(),
});
export type BatchWriteError = z.output<typeof batchWriteError>;

/** `batch/update` and `batch/upsert` answers; upsert results say whether they were `new`. */
export const batchWriteResponse = z.object({
  status: z.enum(['PENDING', 'PROCESSING', 'CANCELED', 'COMPLETE']),
  results: z.array(simplePublicObject.extend({ new: z.boolean().optional() })),
  numErrors: z.number().int().optional(),
  errors: z.array(batchWriteError).optional(),
});

/** A created note; only its id is read. */
export const createdNote = z.object({ id: z.string().min(1) });

/** HubSpot's error body for a refused single write (a note): why, and which fields. */
export const writeErrorBody = z
  .object({
    category: z.string().optional(),
    message: z.string().optional(),
    errors: z.array(z.object({ message: z.string(), code: z.string().optional() })).optional(),
  })
  .loose();

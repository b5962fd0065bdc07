import type { IncomingMessage } from 'node:http';
import { z } from 'zod';

/**
 * What the gateway tells a subgraph when a webhook says a record changed, in the graph's terms
 * (the subgraph maps them to its platform's records). Today: a customer, by CRM id and/or email.
 */
export const invalidationTargetSchema = z
  .object({
    entity: z.literal('Customer'),
    id: z.string().min(1).max(64).optional(),
    email: z.string().min(3).max(320).optional(),
  })
  .strict()
  .refine((t) => t.id !== undefined || t.email !== undefined, 'a target needs an id or an email');
export type InvalidationTarget = z.output<typeof invalidationTargetSchema>;

export const invalidationRequestSchema = z
  .object({ targets: z.array(invalidationTargetSchema).min(1).max(500) })
  .strict();

/**
 * Reads a small JSON body: its bytes (what the gateway token's `bh` claim covers) and its value,
 * undefined when too large or unreadable (and so failing the schema).
 */
export async function readJsonBody(
  req: IncomingMessage,
  limit = 256_000,
): Promise<{ raw: Buffer | undefined; json: unknown }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return { raw: undefined, json: undefined };
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  try {
    return { raw, json: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { raw, json: undefined };
  }
}

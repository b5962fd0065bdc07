import { z } from 'zod';
import { badUserInput } from '../../lib/errors.js';

/**
 * Opaque page cursors over HubSpot's `after` paging. A cursor is a HubSpot page start plus how many
 * contacts of that page were already seen, so any edge (not only the last) can resume a listing.
 */
const cursorSchema = z.object({
  v: z.literal(1),
  a: z.string().nullable(),
  s: z.number().int().min(0).max(100),
});
export type Cursor = { after: string | null; skip: number };

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, a: cursor.after, s: cursor.skip })).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return { after: parsed.a, skip: parsed.s };
  } catch {
    throw badUserInput(
      '`after` is not a cursor this API issued; pass an `endCursor` from a previous page.',
      'after',
    );
  }
}

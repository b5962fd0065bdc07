import type { FieldProblem } from './problems.js';

/**
 * The demo audience's merge fields, as `GET /lists/{list_id}/merge-fields` would list them: the
 * name Mailchimp creates with every audience, and the commerce figures a sync writes. A value is
 * checked against its type the way Mailchimp checks it.
 */
interface MergeField {
  tag: string;
  name: string;
  type: 'text' | 'number' | 'date' | 'phone';
}

export const MERGE_FIELDS: readonly MergeField[] = [
  { tag: 'FNAME', name: 'First Name', type: 'text' },
  { tag: 'LNAME', name: 'Last Name', type: 'text' },
  { tag: 'PHONE', name: 'Phone Number', type: 'phone' },
  { tag: 'LTV', name: 'Lifetime Value', type: 'number' },
  { tag: 'LASTORDER', name: 'Last Order Date', type: 'date' },
];

const byTag = new Map(MERGE_FIELDS.map((f) => [f.tag, f]));

/** Mailchimp's text merge fields hold at most 255 characters. */
const MAX_TEXT = 255;

function problemWith(field: MergeField, value: string): string | undefined {
  switch (field.type) {
    case 'number':
      return value === '' || Number.isFinite(Number(value)) ? undefined : 'Please enter a number.';
    case 'date':
      return value === '' || (/^\d{4}-\d{2}-\d{2}$/.test(value) && Number.isFinite(Date.parse(value)))
        ? undefined
        : 'Please enter the date in the format YYYY-MM-DD.';
    case 'phone':
      return value === '' || /^[+\d][\d\s().-]{2,30}$/.test(value)
        ? undefined
        : 'Please enter a valid phone number.';
    default:
      return value.length <= MAX_TEXT ? undefined : `Please enter at most ${MAX_TEXT} characters.`;
  }
}

/**
 * The merge fields of a write as stored values, or what is wrong with them: a tag the audience does
 * not have, or a value its type refuses. Tags are upper case in Mailchimp and matched as such.
 */
export function readMergeFields(
  input: Record<string, unknown>,
): { values: Record<string, string> } | { problems: FieldProblem[] } {
  const values: Record<string, string> = {};
  const problems: FieldProblem[] = [];
  for (const [rawTag, raw] of Object.entries(input)) {
    const tag = rawTag.toUpperCase();
    const field = byTag.get(tag);
    if (!field) {
      problems.push({ field: rawTag, message: 'This merge field does not exist in the audience.' });
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      problems.push({ field: tag, message: 'Please enter a text or number value.' });
      continue;
    }
    const value = String(raw);
    const problem = problemWith(field, value);
    if (problem) problems.push({ field: tag, message: problem });
    else values[tag] = value;
  }
  return problems.length > 0 ? { problems } : { values };
}

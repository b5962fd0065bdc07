import { judgeEmail } from '../../../sandboxes/kit/emails.js';
import { LEAD_STATUSES, LIFECYCLE_ORDER } from './changes.js';
import type { Customer } from '../../../sandboxes/world/world.js';

/**
 * The demo portal's contact properties: HubSpot's own that the connector reads, and the commerce
 * figures a sync writes back (HubSpot's `total_revenue`, and three custom ones). Each has HubSpot's
 * type, and a write is checked against it the way HubSpot checks it.
 */
type PropertyType = 'string' | 'email' | 'phone' | 'number' | 'date' | 'datetime' | 'enumeration';

interface ContactPropertyDefinition {
  name: string;
  type: PropertyType;
  options?: readonly string[];
  /** Calculated by HubSpot; a write is refused (READ_ONLY_VALUE). */
  readOnly?: boolean;
}

export const CONTACT_PROPERTIES: readonly ContactPropertyDefinition[] = [
  { name: 'email', type: 'email' },
  { name: 'firstname', type: 'string' },
  { name: 'lastname', type: 'string' },
  { name: 'phone', type: 'phone' },
  { name: 'lifecyclestage', type: 'enumeration', options: LIFECYCLE_ORDER },
  { name: 'hs_lead_status', type: 'enumeration', options: LEAD_STATUSES },
  { name: 'total_revenue', type: 'number' },
  { name: 'lifetime_value', type: 'number' },
  { name: 'order_count', type: 'number' },
  { name: 'last_order_date', type: 'date' },
  { name: 'hs_object_id', type: 'number', readOnly: true },
  { name: 'createdate', type: 'datetime', readOnly: true },
  { name: 'lastmodifieddate', type: 'datetime', readOnly: true },
];

const definitions = new Map(CONTACT_PROPERTIES.map((p) => [p.name, p]));

/** A contact property as HubSpot stores it: every value a string, or null when unset. */
export function contactProperty(customer: Customer, name: string): string | null {
  const { person, crm } = customer;
  const written = crm.properties?.[name];
  if (written !== undefined) return written;
  switch (name) {
    case 'email':
      return person.email;
    case 'firstname':
      return person.firstName;
    case 'lastname':
      return person.lastName;
    case 'phone':
      return person.phone;
    case 'lifecyclestage':
      return crm.lifecycleStage;
    case 'hs_lead_status':
      return crm.leadStatus ?? null;
    case 'hs_object_id':
      return crm.id;
    case 'createdate':
      return new Date(crm.createdAt).toISOString();
    case 'lastmodifieddate':
      return new Date(crm.updatedAt).toISOString();
    default:
      return null;
  }
}

/** One property HubSpot refused, in the shape of its "Property values were not valid" list. */
export interface PropertyProblem {
  isValid: false;
  message: string;
  error: string;
  name: string;
}

const problem = (name: string, error: string, message: string): PropertyProblem => ({
  isValid: false,
  message,
  error,
  name,
});

const MIDNIGHT_MS = 86_400_000;

/** What HubSpot stores for a value it accepts, or why it refuses it. */
function checkValue(def: ContactPropertyDefinition, value: string): string | PropertyProblem {
  if (value === '') return value;
  switch (def.type) {
    case 'email':
      return judgeEmail(value) === 'malformed'
        ? problem(def.name, 'INVALID_EMAIL', `Email address ${value} is invalid`)
        : value.toLowerCase();
    case 'number':
      return Number.isFinite(Number(value))
        ? String(Number(value))
        : problem(def.name, 'INVALID_DECIMAL', `${value} was not a valid number.`);
    case 'date': {
      // A date is midnight UTC, as epoch milliseconds or YYYY-MM-DD.
      const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(`${value}T00:00:00Z`);
      return /^(\d+|\d{4}-\d{2}-\d{2})$/.test(value) && Number.isFinite(ms) && ms % MIDNIGHT_MS === 0
        ? new Date(ms).toISOString().slice(0, 10)
        : problem(
            def.name,
            'INVALID_DATE',
            `${value} is not a valid date: use midnight UTC as epoch milliseconds, or YYYY-MM-DD.`,
          );
    }
    case 'enumeration':
      return def.options?.includes(value)
        ? value
        : problem(
            def.name,
            'INVALID_OPTION',
            `${value} was not one of the allowed options: [${(def.options ?? []).join(', ')}]`,
          );
    default:
      return value;
  }
}

/**
 * A write's properties as HubSpot would store them, or every property it refuses: one it does not
 * have, one it calculates itself, or a value of the wrong type. Values may be given as numbers or
 * booleans; HubSpot stores strings.
 */
export function checkProperties(
  input: Record<string, unknown>,
): { values: Record<string, string> } | { problems: PropertyProblem[] } {
  const values: Record<string, string> = {};
  const problems: PropertyProblem[] = [];
  for (const [name, raw] of Object.entries(input)) {
    const def = definitions.get(name);
    if (!def) {
      problems.push(problem(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`));
      continue;
    }
    if (def.readOnly) {
      problems.push(
        problem(name, 'READ_ONLY_VALUE', `${name} is a read only property; its value cannot be set.`),
      );
      continue;
    }
    const text = raw === null ? '' : typeof raw === 'object' ? undefined : String(raw);
    if (text === undefined) {
      problems.push(problem(name, 'INVALID_PROPERTY_VALUE', `${name} takes a string, number or boolean.`));
      continue;
    }
    const checked = checkValue(def, text);
    if (typeof checked === 'string') values[name] = checked;
    else problems.push(checked);
  }
  return problems.length > 0 ? { problems } : { values };
}

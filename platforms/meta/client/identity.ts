import {
  normaliseAndHash,
  normaliseDateOfBirth,
  normaliseName,
  sha256Hex,
  type HashedField,
  type PhoneOptions,
} from './hashing.js';

/**
 * A customer as the graph knows them, in clear text: what a Conversions API event's `user_data`
 * and a custom audience row are built from, hashed here on the way out. Every field is optional;
 * Meta matches on whichever are given.
 */
export interface CustomerIdentity {
  email?: string;
  phone?: string;
  firstName?: string;
  lastName?: string;
  city?: string;
  /** Two-letter state or province code. */
  state?: string;
  zip?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  /** `f`/`m` (or `female`/`male`). */
  gender?: string;
  /** `YYYY-MM-DD`. */
  dateOfBirth?: string;
  /** The advertiser's own id for the customer (the CRM id). */
  externalId?: string;
}

/** Where each Conversions API parameter comes from. */
const FIELDS: readonly [HashedField, keyof CustomerIdentity][] = [
  ['em', 'email'],
  ['ph', 'phone'],
  ['fn', 'firstName'],
  ['ln', 'lastName'],
  ['ct', 'city'],
  ['st', 'state'],
  ['zp', 'zip'],
  ['country', 'country'],
  ['ge', 'gender'],
  ['db', 'dateOfBirth'],
  ['external_id', 'externalId'],
];

/**
 * The identity's `user_data` parameters, each normalised and hashed; fields that are absent or
 * cannot be matched are left out (`external_id` is hashed too, as Meta recommends).
 */
export function hashedUserData(
  identity: CustomerIdentity,
  options: PhoneOptions = {},
): Partial<Record<HashedField, string>> {
  const out: Partial<Record<HashedField, string>> = {};
  for (const [field, source] of FIELDS) {
    const raw = identity[source];
    if (raw === undefined) continue;
    const hash = normaliseAndHash(field, raw, options);
    if (hash !== null) out[field] = hash;
  }
  return out;
}

/** The match keys of a customer-file custom audience (Meta's multi-key schema names). */
export const AUDIENCE_KEYS = [
  'EMAIL',
  'PHONE',
  'FN',
  'LN',
  'FI',
  'CT',
  'ST',
  'ZIP',
  'COUNTRY',
  'GEN',
  'DOBY',
  'DOBM',
  'DOBD',
  'EXTERN_ID',
] as const;
export type AudienceKey = (typeof AUDIENCE_KEYS)[number];

/** Year, month or day of birth (`DOBY`, `DOBM`, `DOBD`), each hashed on its own. */
const birthPart = (identity: CustomerIdentity, from: number, to: number): string | null => {
  const date = identity.dateOfBirth === undefined ? null : normaliseDateOfBirth(identity.dateOfBirth);
  return date === null ? null : sha256Hex(date.slice(from, to));
};

/** One key's value for a row: a SHA-256 digest, the external id as is, or null. */
function audienceValue(key: AudienceKey, identity: CustomerIdentity, options: PhoneOptions): string | null {
  const hash = (field: HashedField, raw: string | undefined) =>
    raw === undefined ? null : normaliseAndHash(field, raw, options);
  switch (key) {
    case 'EMAIL':
      return hash('em', identity.email);
    case 'PHONE':
      return hash('ph', identity.phone);
    case 'FN':
      return hash('fn', identity.firstName);
    case 'LN':
      return hash('ln', identity.lastName);
    case 'FI': {
      const first = identity.firstName === undefined ? null : normaliseName(identity.firstName);
      return first ? sha256Hex([...first][0] ?? '') : null;
    }
    case 'CT':
      return hash('ct', identity.city);
    case 'ST':
      return hash('st', identity.state);
    case 'ZIP':
      return hash('zp', identity.zip);
    case 'COUNTRY':
      return hash('country', identity.country);
    case 'GEN':
      return hash('ge', identity.gender);
    case 'DOBY':
      return birthPart(identity, 0, 4);
    case 'DOBM':
      return birthPart(identity, 4, 6);
    case 'DOBD':
      return birthPart(identity, 6, 8);
    case 'EXTERN_ID':
      // Meta matches an audience's external ids as given (no hashing required).
      return identity.externalId?.trim() || null;
  }
}

/**
 * A custom audience row in the order of `keys`: each value normalised and hashed, `''` where the
 * identity has none. Null when the identity has no value for any key: Meta could not match it.
 */
export function audienceRow(
  keys: readonly AudienceKey[],
  identity: CustomerIdentity,
  options: PhoneOptions = {},
): string[] | null {
  const row = keys.map((key) => audienceValue(key, identity, options) ?? '');
  return row.some((value) => value !== '') ? row : null;
}

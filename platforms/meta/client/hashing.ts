import { createHash } from 'node:crypto';

/**
 * Customer information as Meta matches it: each identifier normalised the way Meta's
 * "Customer Information Parameters" page says, then SHA-256 in lowercase hex. Meta never gets a
 * clear-text email, phone or name from us, and the same person always hashes to the same value as
 * the pixel's Advanced Matching, which is what makes a match. A value that is already a SHA-256
 * hex digest passes through unchanged (as in Meta's own Business SDK), so callers may hash first.
 *
 * A normaliser answers null for a value that cannot be matched at all (an email without a domain,
 * a phone number too short to carry a country code): sending its hash would only count as an
 * invalid entry on Meta's side, and for the Conversions API would reject the whole batch.
 */

/** A SHA-256 digest as Meta wants it: 64 lowercase hex characters. */
export const SHA256_HEX = /^[a-f0-9]{64}$/;

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Already a digest (lowercase hex): Meta would hash a hash again and never match it. */
const hashed = (value: string): string | undefined => {
  const trimmed = value.trim().toLowerCase();
  return SHA256_HEX.test(trimmed) ? trimmed : undefined;
};

/** Unicode text in one composed form: `é` typed as `e` + accent hashes like the single `é`. */
const composed = (value: string) => value.normalize('NFC').trim().toLowerCase();

/** `local@domain.tld` after trimming and lower-casing; Meta matches nothing without a domain. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Trimmed and lower-cased (Meta: "Trim any leading and trailing spaces. Convert all characters to lowercase."). */
export function normaliseEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  return EMAIL.test(email) ? email : null;
}

export interface PhoneOptions {
  /**
   * Country calling code (digits, `1` for the US) for numbers written without one (`(650)555-1212`).
   * Without it, a number not written with `+` or `00` is taken to include its country code already,
   * as Meta requires. @default none
   */
  defaultCountryCode?: string;
}

/**
 * Digits only, with the country code and no leading zeros (Meta: "Remove symbols, letters, and
 * any leading zeros. Phone numbers must include a country code"): `+44 20 7946 0958` and
 * `0044 20 7946 0958` are `442079460958`; with `defaultCountryCode: '1'`, `(650)555-1212` is
 * `16505551212`. A national number drops its trunk zero before the country code goes in front
 * (`020 7946 0958` with `44`). E.164 numbers are at most 15 digits; fewer than 8 cannot hold a
 * country code and a subscriber number.
 */
export function normalisePhone(raw: string, options: PhoneOptions = {}): string | null {
  const text = raw.trim();
  const international = text.startsWith('+') || text.startsWith('00');
  let digits = text.replace(/\D/g, '').replace(/^0+/, '');
  const country = options.defaultCountryCode?.replace(/\D/g, '');
  // North American numbers are ten digits: an eleventh in front is the country code `1` already.
  const hasNanpCode = country === '1' && digits.length === 11 && digits.startsWith('1');
  if (!international && country && !hasNanpCode) digits = `${country}${digits}`;
  return digits.length >= 8 && digits.length <= 15 ? digits : null;
}

/**
 * First and last names, cities: lower case without punctuation (Meta: "Lowercase only with no
 * punctuation"), letters of any script kept in UTF-8 (`Valéry` is `valéry`, `정` stays `정`).
 */
export function normaliseName(raw: string): string | null {
  const name = composed(raw)
    .replace(/[\p{P}\p{S}]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  return name.length > 0 ? name : null;
}

/** Cities: as names, and without spaces or digits (`New York` is `newyork`). */
export function normaliseCity(raw: string): string | null {
  const city = normaliseName(raw)
    ?.replace(/[\s\d]/g, '')
    .trim();
  return city ? city : null;
}

/** States and provinces: the two-letter code in lower case (`CA` is `ca`), letters only. */
export function normaliseState(raw: string): string | null {
  const state = composed(raw).replace(/[^\p{L}]/gu, '');
  return state.length > 0 ? state : null;
}

/** Postal codes: lower case without spaces; a US ZIP+4 keeps its first five digits only. */
export function normaliseZip(raw: string): string | null {
  const zip = composed(raw).replace(/\s/g, '');
  const us = /^(\d{5})-?\d{4}$/.exec(zip);
  const value = us ? us[1] : zip.replace(/-/g, '');
  return value && value.length > 0 ? value : null;
}

/** ISO 3166-1 alpha-2 in lower case (`US` is `us`). */
export function normaliseCountry(raw: string): string | null {
  const country = composed(raw).replace(/[^a-z]/g, '');
  return country.length === 2 ? country : null;
}

/** `f` or `m` (Meta's only two values); `female`/`male` are read too. */
export function normaliseGender(raw: string): string | null {
  const gender = composed(raw);
  if (gender === 'f' || gender === 'female') return 'f';
  if (gender === 'm' || gender === 'male') return 'm';
  return null;
}

/** `YYYYMMDD` from a `YYYY-MM-DD` (or already `YYYYMMDD`) calendar date. */
export function normaliseDateOfBirth(raw: string): string | null {
  const match = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(raw.trim());
  if (!match) return null;
  const [, year, month, day] = match;
  const date = new Date(`${year}-${month}-${day}T00:00:00Z`);
  const real = !Number.isNaN(date.getTime()) && date.toISOString().startsWith(`${year}-${month}-${day}`);
  return real ? `${year}${month}${day}` : null;
}

/** An advertiser's own id (a CRM id): trimmed, case kept, since ids are often case-sensitive. */
export function normaliseExternalId(raw: string): string | null {
  const id = raw.trim();
  return id.length > 0 ? id : null;
}

/** The normaliser of each identifier, by the Conversions API's parameter name. */
export const NORMALISERS = {
  em: normaliseEmail,
  ph: normalisePhone,
  fn: normaliseName,
  ln: normaliseName,
  ct: normaliseCity,
  st: normaliseState,
  zp: normaliseZip,
  country: normaliseCountry,
  ge: normaliseGender,
  db: normaliseDateOfBirth,
  external_id: normaliseExternalId,
} as const satisfies Record<string, (raw: string, options?: PhoneOptions) => string | null>;

export type HashedField = keyof typeof NORMALISERS;

/**
 * The SHA-256 hex of `raw` normalised as `field`; the value itself when it is a digest already;
 * null when it cannot be matched.
 */
export function normaliseAndHash(field: HashedField, raw: string, options: PhoneOptions = {}): string | null {
  const digest = hashed(raw);
  if (digest) return digest;
  const normalised = field === 'ph' ? normalisePhone(raw, options) : NORMALISERS[field](raw);
  return normalised === null ? null : sha256Hex(normalised);
}

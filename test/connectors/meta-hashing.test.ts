import { describe, expect, it } from 'vitest';
import {
  normaliseAndHash,
  normaliseCity,
  normaliseCountry,
  normaliseDateOfBirth,
  normaliseEmail,
  normaliseGender,
  normaliseName,
  normalisePhone,
  normaliseState,
  normaliseZip,
  sha256Hex,
} from '../../platforms/meta/client/hashing.js';
import { audienceRow, hashedUserData } from '../../platforms/meta/client/identity.js';

/**
 * Known vectors: the inputs and SHA-256 outputs Meta prints on its "Customer Information
 * Parameters" page (email, phone, first names in three scripts) and the hashed phones of its
 * "Using the API" example request (the Business SDK's `12345678901`, `14251234567`).
 */
describe("Meta's published hashing vectors", () => {
  it('should hash an email as Meta does: trimmed, lower-cased', () => {
    expect(normaliseEmail('  John_Smith@gmail.com ')).toBe('john_smith@gmail.com');
    expect(normaliseAndHash('em', 'John_Smith@gmail.com')).toBe(
      '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f',
    );
  });

  it('should hash a US phone number with its country code, digits only', () => {
    expect(normaliseAndHash('ph', '(650)555-1212', { defaultCountryCode: '1' })).toBe(
      'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
    );
    expect(normaliseAndHash('ph', '1 (234) 567-8901')).toBe(
      '254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4',
    );
    expect(normaliseAndHash('ph', '+1 425-123-4567')).toBe(
      '6f4fcb9deaeadc8f9746ae76d97ce1239e98b404efe5da3ee0b7149740f89ad6',
    );
  });

  it('should hash first names in lower case, keeping letters of any script in UTF-8', () => {
    expect(normaliseAndHash('fn', 'Mary')).toBe(
      '6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec',
    );
    expect(normaliseAndHash('fn', '정')).toBe(
      '8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14',
    );
    expect(normaliseAndHash('fn', 'Valéry')).toBe(
      '08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c',
    );
    // The same name typed with a combining accent hashes the same.
    expect(normaliseAndHash('fn', 'Vale\u0301ry')).toBe(normaliseAndHash('fn', 'Valéry'));
  });

  it('should pass a value that is already a SHA-256 digest through, lower-cased, not hash it again', () => {
    const digest = sha256Hex('ada@example.com');
    expect(normaliseAndHash('em', digest.toUpperCase())).toBe(digest);
  });
});

describe('Meta normalisation rules', () => {
  it('should refuse an email Meta cannot match', () => {
    expect(normaliseEmail('ada')).toBeNull();
    expect(normaliseEmail('ada@example')).toBeNull();
    expect(normaliseAndHash('em', '  ')).toBeNull();
  });

  it('should drop symbols, the international prefix and leading zeros from phone numbers', () => {
    expect(normalisePhone('+44 20 7946 0958')).toBe('442079460958');
    expect(normalisePhone('0044 20 7946 0958')).toBe('442079460958');
    // A national number loses its trunk zero before the default country code goes in front.
    expect(normalisePhone('020 7946 0958', { defaultCountryCode: '44' })).toBe('442079460958');
    // A North American number already written with its 1 does not get a second one.
    expect(normalisePhone('1-650-555-1212', { defaultCountryCode: '1' })).toBe('16505551212');
    expect(normalisePhone('+1 212 555 0142', { defaultCountryCode: '44' })).toBe('12125550142');
    expect(normalisePhone('555-0142')).toBeNull();
    expect(normalisePhone('+1 234 567 8901 2345 6789')).toBeNull();
  });

  it('should write names, cities, states, zips, countries, genders and birth dates as Meta asks', () => {
    expect(normaliseName("  O'Brien-Smith ")).toBe('obriensmith');
    expect(normaliseName('Mary Ann')).toBe('mary ann');
    expect(normaliseName('...')).toBeNull();
    expect(normaliseCity('New York')).toBe('newyork');
    expect(normaliseCity('St. Louis 2')).toBe('stlouis');
    expect(normaliseState(' CA ')).toBe('ca');
    expect(normaliseZip('94303-5300')).toBe('94303');
    expect(normaliseZip('WC2H 8LG')).toBe('wc2h8lg');
    expect(normaliseCountry('US')).toBe('us');
    expect(normaliseCountry('USA')).toBeNull();
    expect(normaliseGender('Female')).toBe('f');
    expect(normaliseGender('x')).toBeNull();
    expect(normaliseDateOfBirth('1990-02-28')).toBe('19900228');
    expect(normaliseDateOfBirth('1990-02-30')).toBeNull();
  });
});

describe('customer identities on the way to Meta', () => {
  const ada = {
    email: 'Ada@Example.com',
    phone: '+1 212 555 0142',
    firstName: 'Ada',
    lastName: 'Lovelace',
    dateOfBirth: '1815-12-10',
    externalId: 'crm-42',
  };

  it('should build a Conversions API user_data of hashes only, leaving out what cannot be matched', () => {
    expect(hashedUserData({ ...ada, country: 'Britain' })).toEqual({
      em: sha256Hex('ada@example.com'),
      ph: sha256Hex('12125550142'),
      fn: sha256Hex('ada'),
      ln: sha256Hex('lovelace'),
      db: sha256Hex('18151210'),
      external_id: sha256Hex('crm-42'),
    });
  });

  it('should build an audience row in the order of the keys, empty where the identity has nothing', () => {
    expect(audienceRow(['EMAIL', 'PHONE', 'FI', 'DOBY', 'ZIP', 'EXTERN_ID'], ada)).toEqual([
      sha256Hex('ada@example.com'),
      sha256Hex('12125550142'),
      sha256Hex('a'),
      sha256Hex('1815'),
      '',
      'crm-42',
    ]);
    expect(audienceRow(['EMAIL', 'PHONE'], { email: 'not an email', phone: '12' })).toBeNull();
  });
});

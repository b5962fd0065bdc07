import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys for server-to-server clients: `mgk_<keyId>_<secret>`. The key id is public (it names
 * the key in the registry, in logs and in the CLI); the secret is 32 random bytes and is never
 * stored, only its hash.
 */

export const API_KEY_PREFIX = 'mgk_';

/** Lower-case base32hex (RFC 4648 §7): 12 characters carry 60 random bits. */
const KEY_ID_ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const KEY_ID_LENGTH = 12;
const SECRET_BYTES = 32;
/** 32 bytes in base64url without padding. */
const SECRET_LENGTH = 43;

const KEY_ID = /^[0-9a-v]{12}$/;
const API_KEY = /^mgk_([0-9a-v]{12})_([A-Za-z0-9_-]{43})$/;
const HASH = /^sha256:[0-9a-f]{64}$/;

export interface ApiKeyParts {
  keyId: string;
  secret: string;
}

export interface GeneratedApiKey extends ApiKeyParts {
  /** The whole key, shown to its owner once and never stored. */
  key: string;
  /** What the registry stores: `sha256:<hex>`. */
  hash: string;
}

export function isKeyId(value: string): boolean {
  return KEY_ID.test(value);
}

export function isSecretHash(value: string): boolean {
  return HASH.test(value);
}

export function generateKeyId(): string {
  const bytes = randomBytes(KEY_ID_LENGTH);
  let id = '';
  // Each byte picks one of 32 characters: 256 is a multiple of 32, so there is no modulo bias.
  for (const byte of bytes) id += KEY_ID_ALPHABET[byte % KEY_ID_ALPHABET.length];
  return id;
}

export function generateApiKey(keyId: string = generateKeyId()): GeneratedApiKey {
  if (!isKeyId(keyId)) throw new Error(`a key id is ${KEY_ID_LENGTH} characters of [0-9a-v]`);
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { keyId, secret, key: `${API_KEY_PREFIX}${keyId}_${secret}`, hash: hashSecret(secret) };
}

/**
 * SHA-256, not a password hash (bcrypt, scrypt, argon2): a slow hash exists to make guessing a
 * low-entropy human password expensive, while these secrets are 256 random bits that no amount of
 * guessing reaches. A fast hash keeps verification off the hot path's budget (it runs on every
 * request) and leaves nothing for an attacker who reads the registry to work with.
 */
export function hashSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** The key's id and secret, or undefined when the text is not shaped like one of our keys. */
export function parseApiKey(text: string): ApiKeyParts | undefined {
  if (text.length !== API_KEY_PREFIX.length + KEY_ID_LENGTH + 1 + SECRET_LENGTH) return undefined;
  const match = API_KEY.exec(text);
  const [, keyId, secret] = match ?? [];
  return keyId && secret ? { keyId, secret } : undefined;
}

/** Whether `secret` hashes to `storedHash`, in time that does not depend on where they differ. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  // Both are `sha256:` plus 64 hex digits once the registry is validated; the length check only
  // guards timingSafeEqual, which throws on buffers of different lengths.
  return given.length === stored.length && timingSafeEqual(given, stored);
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateApiKey,
  generateKeyId,
  hashSecret,
  parseApiKey,
  secretMatches,
} from '../../gateway/auth/api-keys.js';

describe('API keys', () => {
  it('should generate mgk_<12-char key id>_<43-char base64url secret> keys that parse back', () => {
    const generated = generateApiKey();
    expect(generated.key).toMatch(/^mgk_[0-9a-v]{12}_[A-Za-z0-9_-]{43}$/);
    expect(generated.key).toBe(`mgk_${generated.keyId}_${generated.secret}`);
    expect(Buffer.from(generated.secret, 'base64url')).toHaveLength(32);
    expect(parseApiKey(generated.key)).toEqual({ keyId: generated.keyId, secret: generated.secret });
  });

  it('should make a different key id and secret every time', () => {
    const keys = Array.from({ length: 50 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.keyId)).size).toBe(50);
    expect(new Set(keys.map((k) => k.secret)).size).toBe(50);
    expect(new Set(Array.from({ length: 50 }, () => generateKeyId())).size).toBe(50);
  });

  it('should hash a secret as sha256:<hex> of its UTF-8 bytes, never containing the secret', () => {
    const { secret, hash } = generateApiKey();
    expect(hash).toBe(`sha256:${createHash('sha256').update(secret).digest('hex')}`);
    expect(hashSecret(secret)).toBe(hash);
    expect(hash).not.toContain(secret);
  });

  it('should refuse text that is not exactly one of our keys', () => {
    const { key, keyId, secret } = generateApiKey();
    for (const text of [
      '',
      key.slice(0, -1),
      `${key}A`,
      key.replace('mgk_', 'mgx_'),
      `mgk_${keyId.toUpperCase()}_${secret}`,
      `mgk_${keyId}-${secret}`,
      ` ${key}`,
      `mgk_${keyId}_${secret.slice(0, 42)}=`,
    ])
      expect(parseApiKey(text)).toBeUndefined();
  });

  it('should match a secret against its stored hash only', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(secretMatches(a.secret, a.hash)).toBe(true);
    expect(secretMatches(b.secret, a.hash)).toBe(false);
    expect(secretMatches(a.secret, 'sha256:short')).toBe(false);
  });
});

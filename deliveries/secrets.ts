import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { generateStandardWebhookSecret } from '../lib/webhooks/sign.js';

/**
 * Endpoint signing secrets: created here (`whsec_` and the base64 of 32 random bytes, shown to the
 * caller once), stored sealed when a sealing key is configured, opened only to sign.
 *
 * The store must keep something the gateway can sign with, so a hash will not do. With
 * `secretSealingKey` set each secret is sealed with AES-256-GCM (`sealed:v1:<iv>:<tag>:<data>`,
 * base64 parts, a fresh 12-byte IV each): a copy of the data file alone then reveals nothing.
 * Without it the secret is stored as it is (`plain:<secret>`), which the start-up log says.
 */
export interface SecretSealer {
  /** Whether secrets are encrypted at rest. */
  readonly sealed: boolean;
  seal(secret: string): string;
  /** Throws when the value was sealed with another key: that is a configuration error. */
  open(stored: string): string;
}

/** A fresh Standard Webhooks secret for a new endpoint or a rotation. */
export function newEndpointSecret(): string {
  return generateStandardWebhookSecret(32);
}

const PLAIN = 'plain:';
const SEALED = 'sealed:v1:';

export function secretSealer(keyBase64: string | undefined): SecretSealer {
  const key = keyBase64 === undefined ? undefined : Buffer.from(keyBase64, 'base64');
  return {
    sealed: key !== undefined,
    seal(secret) {
      if (!key) return `${PLAIN}${secret}`;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return `${SEALED}${[iv, cipher.getAuthTag(), data].map((part) => part.toString('base64')).join(':')}`;
    },
    open(stored) {
      if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
      if (!stored.startsWith(SEALED))
        throw new Error('an endpoint secret in the store has an unknown format');
      if (!key)
        throw new Error(
          'endpoint secrets in the store are sealed, and no sealing key is configured to open them',
        );
      const [iv, tag, data] = stored
        .slice(SEALED.length)
        .split(':')
        .map((part) => Buffer.from(part, 'base64'));
      if (!iv || !tag || !data) throw new Error('a sealed endpoint secret in the store is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(
          'an endpoint secret in the store was sealed with another key than the one configured',
        );
      }
    },
  };
}

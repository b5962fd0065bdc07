/**
 * Secrets a receiver may echo back in its response body (an error page quoting the request's
 * headers, a debug dump), removed before the body is stored with the attempt and shown to whoever
 * may read the endpoint.
 */
const PATTERNS: readonly [RegExp, string][] = [
  [/whsec_[A-Za-z0-9+/=_-]*/g, 'whsec_[redacted]'],
  [/\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]+/gi, '$1$2[redacted]'],
  [/mgk_[A-Za-z0-9_-]+/g, 'mgk_[redacted]'],
  // JSON Web Tokens, whatever field carries them.
  [/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted token]'],
];

/**
 * `text` without secrets: the well-known shapes above, and each of `known` (the endpoint's own
 * secrets, also as their bare base64 key, which a receiver holding it may print).
 */
export function scrubSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) {
    const bare = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    for (const value of [secret, bare]) if (value.length >= 8) out = out.split(value).join('[redacted]');
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

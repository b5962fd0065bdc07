/**
 * Campaign names follow `<key> | <description>` (`spring-sale | Prospecting`), where the key is the
 * `utm_campaign` value the same campaign's emails and landing links carry. Names that do not follow
 * it (always-on brand work, hand-named tests) have no key rather than a made-up one.
 */
const KEY = /^[a-z0-9][a-z0-9-]*$/;
const SEPARATOR = ' | ';

export function campaignKeyOf(name: string): string | null {
  const at = name.indexOf(SEPARATOR);
  if (at < 0) return null;
  const key = name.slice(0, at).trim();
  return KEY.test(key) ? key : null;
}

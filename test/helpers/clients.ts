import { DEMO_API_KEYS, type DemoClientId } from '../../gateway/auth/demo-keys.js';

/** Request headers that identify one of the embedded demo's clients by its (public) demo key. */
export function as(client: DemoClientId, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${DEMO_API_KEYS[client]}`, ...extra };
}

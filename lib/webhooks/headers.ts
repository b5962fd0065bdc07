/**
 * Request headers as Node hands them over (`IncomingMessage.headers`: lower-case names, a list
 * only for the few headers Node does not join), or any record shaped like it.
 */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One header's value, looked up case-insensitively. A header sent several times with different
 * values is ambiguous, so it counts as absent: a signature check must never pick one of two.
 */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  let value = headers[wanted];
  if (value === undefined) {
    for (const [key, candidate] of Object.entries(headers)) {
      if (key.toLowerCase() === wanted) {
        value = candidate;
        break;
      }
    }
  }
  if (typeof value === 'string') return value;
  if (value === undefined || value.length === 0) return undefined;
  const [first] = value;
  return value.every((v) => v === first) ? first : undefined;
}

import { UpstreamError } from '../../lib/errors.js';

/** The UpstreamError `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof UpstreamError))
    throw new Error(`expected an UpstreamError, got ${String(outcome)}`);
  return outcome;
}

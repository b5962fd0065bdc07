import type { SandboxResponse } from '../../../sandboxes/kit/types.js';

/**
 * Twilio's error body, `{code, message, more_info, status}`, the same for every failed call; the
 * codes are Twilio's own (`20429`, `21211`...), each documented at `more_info`.
 */
export function twilioError(status: number, code: number, message: string): SandboxResponse {
  return {
    status,
    json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

/** A failure with no more specific code: Twilio's 20xxx codes mirror the HTTP status (20404, 20500). */
export const httpError = (status: number, message: string) =>
  twilioError(status, Number(`20${status}`), message);

export const notFound = (path: string) =>
  twilioError(404, 20404, `The requested resource ${path} was not found`);

export const unauthenticated = () => ({
  ...twilioError(401, 20003, 'Authenticate'),
  headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
});

export const tooManyRequests = () => twilioError(429, 20429, 'Too Many Requests');

/** A 400 about the message being created, with Twilio's code for what is wrong with it. */
export const invalidMessage = (code: number, message: string) => twilioError(400, code, message);

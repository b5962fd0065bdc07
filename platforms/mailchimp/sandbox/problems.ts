import { randomUUID } from 'node:crypto';
import type { SandboxResponse } from '../../../sandboxes/kit/types.js';

/** Mailchimp answers every error with RFC 7807 problem details under this type. */
const PROBLEM_TYPE = 'https://mailchimp.com/developer/marketing/docs/errors/';
const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The titles Mailchimp uses for each status it documents. */
const TITLES: Record<number, string> = {
  400: 'Invalid Resource',
  401: 'API Key Invalid',
  403: 'Forbidden',
  404: 'Resource Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface FieldProblem {
  field: string;
  message: string;
}

export function problem(
  status: number,
  detail: string,
  options: { title?: string; errors?: FieldProblem[] } = {},
): SandboxResponse {
  return {
    status,
    contentType: PROBLEM_CONTENT_TYPE,
    json: {
      type: PROBLEM_TYPE,
      title: options.title ?? TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request'),
      status,
      detail,
      instance: randomUUID(),
      ...(options.errors ? { errors: options.errors } : {}),
    },
  };
}

export const notFound = () => problem(404, 'The requested resource could not be found.');

/** A 400 naming the query parameters that are wrong, the way Mailchimp reports invalid input. */
export const invalid = (errors: FieldProblem[]) =>
  problem(
    400,
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
    { errors },
  );

import type { SandboxRequest } from '../../../sandboxes/kit/types.js';

/**
 * The parameters of a Graph API write, wherever the caller put them: the query string, a form body
 * (`-F data=[...]` in Meta's curl examples) or a JSON body. Structured parameters (`data`,
 * `payload`, `session`) arrive as JSON text in a query or form, as JSON values in a JSON body; either
 * way they come out as values. Later sources win: query, then body.
 */
export type GraphParams = Record<string, unknown>;
/** The parameters, or why they cannot be read (a body or a structured parameter that is not JSON). */
export type ParamsResult = { params: GraphParams } | { error: string };

function fromPairs(pairs: URLSearchParams, structured: ReadonlySet<string>): ParamsResult {
  const params: GraphParams = {};
  for (const [name, value] of pairs) {
    if (!structured.has(name)) {
      params[name] = value;
      continue;
    }
    try {
      params[name] = JSON.parse(value);
    } catch {
      return { error: `Param ${name} must be JSON, got text that does not parse` };
    }
  }
  return { params };
}

export function graphParams(request: SandboxRequest, structured: readonly string[]): ParamsResult {
  const names = new Set(structured);
  const query = new URLSearchParams(request.query);
  // The token is auth, not a parameter of the call (and is never recorded).
  query.delete('access_token');
  const fromQuery = fromPairs(query, names);
  if ('error' in fromQuery) return fromQuery;
  const contentType = request.headers['content-type'] ?? '';
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(request.rawBody.toString('utf8'));
    form.delete('access_token');
    const fromForm = fromPairs(form, names);
    if ('error' in fromForm) return fromForm;
    return { params: { ...fromQuery.params, ...fromForm.params } };
  }
  if (request.json === undefined) return fromQuery;
  if (typeof request.json !== 'object' || request.json === null || Array.isArray(request.json))
    return { error: 'The request body must be a JSON object of parameters' };
  const { access_token: _token, ...body } = request.json as Record<string, unknown>;
  for (const name of names) {
    const value = body[name];
    if (typeof value !== 'string') continue;
    try {
      body[name] = JSON.parse(value);
    } catch {
      return { error: `Param ${name} must be JSON, got text that does not parse` };
    }
  }
  return { params: { ...fromQuery.params, ...body } };
}

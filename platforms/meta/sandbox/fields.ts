/**
 * The `fields` parameter: a comma-separated list of the node's fields. Meta refuses the whole
 * request (code 100) when one is unknown; each node words that refusal its own way.
 */
export function fieldsOf(
  query: URLSearchParams,
  known: ReadonlySet<string>,
  refusal: (field: string) => string,
): string[] | { error: string } {
  const fields = (query.get('fields') ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = fields.find((f) => !known.has(f));
  return unknown === undefined ? fields : { error: refusal(unknown) };
}

/** How Meta refuses an unknown field on a plain node (campaign, ad account). */
export const nonexistingField = (node: string) => (field: string) =>
  `Tried accessing nonexisting field (${field}) on node type (${node})`;

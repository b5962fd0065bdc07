/** Media types a GraphQL client asks `/graphql` for; the first wins a tie, as in Apollo Server. */
const GRAPHQL_TYPES = ['application/json', 'application/graphql-response+json', 'multipart/mixed'];

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [mediaRange = '', ...parameters] = part.split(';').map((s) => s.trim().toLowerCase());
    const [type, subtype] = mediaRange.split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const parameter of parameters) {
      const [name, value] = parameter.split('=').map((s) => s.trim());
      if (name === 'q') {
        const parsed = Number(value);
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The quality the most specific matching range gives `mediaType` (RFC 9110, 12.5.1). */
function qualityOf(ranges: readonly Range[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const range of ranges) {
    const specificity =
      range.type === type && range.subtype === subtype
        ? 2
        : range.type === type && range.subtype === '*'
          ? 1
          : range.type === '*' && range.subtype === '*'
            ? 0
            : -1;
    if (specificity >= 0 && (!best || specificity > best.specificity)) best = { specificity, q: range.q };
  }
  return best?.q ?? 0;
}

/**
 * Whether a request's `Accept` prefers an HTML page to a GraphQL response: true for a browser
 * opening the URL (`text/html,...,*\/*;q=0.8`), false for GraphQL clients and for `*\/*` (curl),
 * where the JSON types win the tie. The same decision Apollo Server makes for its landing page.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const html = qualityOf(ranges, 'text/html');
  return html > 0 && GRAPHQL_TYPES.every((type) => qualityOf(ranges, type) < html);
}

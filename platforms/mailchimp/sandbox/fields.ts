/**
 * Mailchimp's partial responses: `fields` keeps only the listed dot paths and `exclude_fields` drops
 * them (`members.email_address,members.status,total_items`). A path walks through arrays, so
 * `members.status` applies to every member. Any endpoint can run its body through here.
 */

/** Dot paths folded into a tree: `true` marks a whole value, an object its chosen parts. */
type PathTree = { [key: string]: PathTree | true };

function parsePaths(text: string | null): PathTree | undefined {
  const paths = (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (paths.length === 0) return undefined;
  const tree: PathTree = {};
  for (const path of paths) {
    let node = tree;
    const parts = path.split('.');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1) {
        node[part] = true;
        break;
      }
      const next = node[part];
      // A shorter path already asked for the whole value; a longer one cannot narrow it.
      if (next === true) break;
      const child: PathTree = next ?? {};
      node[part] = child;
      node = child;
    }
  }
  return tree;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function pick(value: unknown, tree: PathTree | true): unknown {
  if (tree === true) return value;
  if (Array.isArray(value)) return value.map((item) => pick(item, tree));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(tree)) {
    if (key in value) out[key] = pick(value[key], sub);
  }
  return out;
}

function omit(value: unknown, tree: PathTree): unknown {
  if (Array.isArray(value)) return value.map((item) => omit(item, tree));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const sub = tree[key];
    if (sub === true) continue;
    out[key] = sub ? omit(item, sub) : item;
  }
  return out;
}

/** Applies `fields`, then `exclude_fields`, to a response body; either may be absent. */
export function selectFields(body: unknown, fields: string | null, excludeFields: string | null): unknown {
  const keep = parsePaths(fields);
  const drop = parsePaths(excludeFields);
  let out = keep ? pick(body, keep) : body;
  if (drop) out = omit(out, drop);
  return out;
}

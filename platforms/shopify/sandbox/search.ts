import type { Customer } from '../../../sandboxes/world/world.js';

/**
 * The part of Shopify's search syntax `customers/search.json?query=` accepts that the sandbox
 * understands: `field:value` terms (values may be quoted, a trailing `*` matches a prefix), bare
 * words matched against email and names, terms side by side ANDed, groups joined by ` OR `.
 * A field the sandbox does not know matches nobody, as an unknown filter does on Shopify.
 */

interface Term {
  field: string | null;
  value: string;
}

/** Splits on whitespace outside double quotes; quotes are removed, `\"` and `\\` unescaped. */
function tokens(query: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < query.length; i++) {
    const ch = query.charAt(i);
    if (quoted && ch === '\\' && i + 1 < query.length) {
      current += query.charAt(++i);
    } else if (ch === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) out.push(current);
  return out;
}

/** The query as OR-groups of ANDed terms. */
export function parseCustomerQuery(query: string): Term[][] {
  const groups: Term[][] = [[]];
  for (const token of tokens(query)) {
    if (token === 'OR') {
      groups.push([]);
      continue;
    }
    if (token === 'AND') continue;
    const colon = token.indexOf(':');
    const term =
      colon > 0
        ? { field: token.slice(0, colon).toLowerCase(), value: token.slice(colon + 1).toLowerCase() }
        : { field: null, value: token.toLowerCase() };
    groups[groups.length - 1]?.push(term);
  }
  return groups.filter((g) => g.length > 0);
}

function equals(actual: string, wanted: string): boolean {
  const text = actual.toLowerCase();
  return wanted.endsWith('*') ? text.startsWith(wanted.slice(0, -1)) : text === wanted;
}

function matches(customer: Customer, term: Term): boolean {
  const { person, shop } = customer;
  switch (term.field) {
    case null:
      return [person.email, person.firstName, person.lastName].some((v) =>
        v.toLowerCase().includes(term.value.replace(/\*$/, '')),
      );
    case 'email':
      return equals(person.email, term.value);
    case 'first_name':
      return equals(person.firstName, term.value);
    case 'last_name':
      return equals(person.lastName, term.value);
    case 'phone':
      return person.phone.replace(/\D/g, '').endsWith(term.value.replace(/\D/g, ''));
    case 'state':
      return shop !== undefined && shop.state === term.value;
    case 'tag':
      return shop !== undefined && shop.tags.split(',').some((t) => equals(t.trim(), term.value));
    default:
      return false;
  }
}

/** Customers the query selects, in the order given; an empty query selects them all. */
export function searchCustomers(customers: readonly Customer[], query: string): Customer[] {
  const groups = parseCustomerQuery(query);
  if (groups.length === 0) return [...customers];
  return customers.filter((c) => groups.some((group) => group.every((term) => matches(c, term))));
}

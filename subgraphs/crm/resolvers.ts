import { badUserInput } from '../../lib/errors.js';
import { DateTimeScalar } from '../../lib/graphql/scalars.js';
import { checkPageSize } from '../../lib/graphql/page-sizes.js';
import type { CrmCustomer } from '../../platforms/hubspot/client/records.js';
import type { CrmContext } from './context.js';
import { decodeCursor, encodeCursor, type Cursor } from './cursor.js';
import type { CustomerConnectionModel } from './mappers.js';
import type { Resolvers } from './__generated__/resolvers-types.js';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** Pages through HubSpot until `first` customers are collected, keeping a resumable cursor per edge. */
async function customersPage(
  context: CrmContext,
  first: number,
  start: Cursor,
): Promise<CustomerConnectionModel> {
  const edges: CustomerConnectionModel['edges'] = [];
  let cursor = start;
  let hasNextPage = false;
  for (;;) {
    const wanted = first - edges.length + cursor.skip;
    const page = await context.hubspot.listContacts(context.request, {
      limit: Math.min(100, wanted),
      ...(cursor.after ? { after: cursor.after } : {}),
    });
    context.loaders.prime(page.customers);
    const fresh = page.customers.slice(cursor.skip);
    const take = fresh.slice(0, first - edges.length);
    take.forEach((customer, i) => {
      const seen = cursor.skip + i + 1;
      const endOfPage = seen === page.customers.length;
      edges.push({
        node: customer,
        cursor: encodeCursor(
          endOfPage && page.nextAfter
            ? { after: page.nextAfter, skip: 0 }
            : { after: cursor.after, skip: seen },
        ),
      });
    });
    const consumedPage = cursor.skip + take.length >= page.customers.length;
    if (!consumedPage) {
      hasNextPage = true;
      break;
    }
    if (!page.nextAfter) break;
    cursor = { after: page.nextAfter, skip: 0 };
    if (edges.length >= first) {
      hasNextPage = true;
      break;
    }
  }
  return { edges, pageInfo: { hasNextPage, endCursor: edges[edges.length - 1]?.cursor ?? null } };
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    async customer(_parent, args, context) {
      const id = args.id ?? null;
      const email = args.email ?? null;
      if ((id === null) === (email === null)) {
        throw badUserInput('Give exactly one of `id` or `email` to look up a customer.');
      }
      if (id !== null) {
        if (!/^\d{1,20}$/.test(id)) throw badUserInput('`id` must be a CRM id made of digits.', 'id');
        return context.loaders.customerById.load(id);
      }
      if (email === null || !EMAIL.test(email))
        throw badUserInput('`email` must be an email address.', 'email');
      return context.loaders.customerByEmail.load(email.toLowerCase());
    },
    async customers(_parent, args, context) {
      checkPageSize('Query.customers(first:)', args.first);
      const start = args.after ? decodeCursor(args.after) : { after: null, skip: 0 };
      return customersPage(context, args.first, start);
    },
  },
  Customer: {
    async __resolveReference(reference, context): Promise<CrmCustomer | null> {
      const ref = reference as { id?: string | null; email?: string | null };
      if (ref.id) return context.loaders.customerById.load(ref.id);
      if (ref.email) return context.loaders.customerByEmail.load(ref.email.toLowerCase());
      return null;
    },
    lists: (customer, _args, context) => context.loaders.listsOfCustomer.load(customer.id),
  },
};

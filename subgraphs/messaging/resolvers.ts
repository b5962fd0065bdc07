import { checkPageSize } from '../../lib/graphql/page-sizes.js';
import { DateTimeScalar } from '../../lib/graphql/scalars.js';
import { toE164 } from '../../platforms/twilio/client/records.js';
import type { CustomerModel } from './mappers.js';
import type { Resolvers } from './__generated__/resolvers-types.js';

/** The key as the gateway sent it: the CRM's phone, which may be absent or not textable. */
function customerOf(reference: { phone?: unknown }): CustomerModel {
  const phone = typeof reference.phone === 'string' && reference.phone.trim() !== '' ? reference.phone : null;
  return { phone, e164: phone === null ? null : toE164(phone) };
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Customer: {
    // No platform call here: a failed read then nulls only the fields that needed it.
    __resolveReference: (reference) => customerOf(reference),
    phone: (customer) => customer.phone,
    smsConsent: (customer, _args, context) =>
      customer.e164 === null ? null : context.loaders.consentByPhone.load(customer.e164),
    smsMessages(customer, args, context) {
      checkPageSize('Customer.smsMessages(first:)', args.first);
      return customer.e164 === null
        ? null
        : context.loaders.messagesByPhone.load({ phone: customer.e164, first: args.first });
    },
  },
};

/**
 * What the `Customer` resolvers receive: the phone number the gateway sent as the key, as the CRM
 * holds it, and the E.164 form Twilio addresses (null when it cannot receive texts). Each field
 * reads Twilio through the request's loaders, so an SMS platform that cannot be reached fails each
 * field at its own path and the entity stays.
 */
export interface CustomerModel {
  phone: string | null;
  e164: string | null;
}

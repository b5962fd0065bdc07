import type { Customer } from '../../../sandboxes/world/world.js';

/** A contact property as HubSpot stores it: every value a string, or null when unset. */
export function contactProperty(customer: Customer, name: string): string | null {
  const { person, crm } = customer;
  switch (name) {
    case 'email':
      return person.email;
    case 'firstname':
      return person.firstName;
    case 'lastname':
      return person.lastName;
    case 'phone':
      return person.phone;
    case 'lifecyclestage':
      return crm.lifecycleStage;
    case 'hs_lead_status':
      return crm.leadStatus ?? null;
    case 'hs_object_id':
      return crm.id;
    case 'createdate':
      return new Date(crm.createdAt).toISOString();
    case 'lastmodifieddate':
      return new Date(crm.updatedAt).toISOString();
    default:
      return null;
  }
}

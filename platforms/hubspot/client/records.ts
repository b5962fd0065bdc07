import { toDateTime } from '../../../lib/dates.js';
import type { SimplePublicObject } from './schemas.js';

/** A customer as the CRM knows them, in the graph's conventions. */
export interface CrmCustomer {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  lifecycleStage: LifecycleStage | null;
  createdAt: string;
  updatedAt: string;
}

export type LifecycleStage =
  | 'SUBSCRIBER'
  | 'LEAD'
  | 'MARKETING_QUALIFIED_LEAD'
  | 'SALES_QUALIFIED_LEAD'
  | 'OPPORTUNITY'
  | 'CUSTOMER'
  | 'EVANGELIST'
  | 'OTHER';

export interface CrmListMembership {
  listId: string;
  addedAt: string | null;
}

export interface CrmList {
  id: string;
  name: string;
}

/** The contact properties the connector asks for, and only those (least data, least privilege). */
export const CONTACT_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'lifecyclestage',
  'createdate',
  'lastmodifieddate',
];

const STAGES: Record<string, LifecycleStage> = {
  subscriber: 'SUBSCRIBER',
  lead: 'LEAD',
  marketingqualifiedlead: 'MARKETING_QUALIFIED_LEAD',
  salesqualifiedlead: 'SALES_QUALIFIED_LEAD',
  opportunity: 'OPPORTUNITY',
  customer: 'CUSTOMER',
  evangelist: 'EVANGELIST',
  other: 'OTHER',
};

/** HubSpot stage ids are lower-case words; portals can add custom (numeric) stages, shown as OTHER. */
export function lifecycleStageOf(value: string | null | undefined): LifecycleStage | null {
  if (!value) return null;
  return STAGES[value] ?? 'OTHER';
}

const blankToNull = (value: string | null | undefined) => (value && value.trim() !== '' ? value : null);

export function toCrmCustomer(object: SimplePublicObject): CrmCustomer {
  const p = object.properties;
  return {
    id: object.id,
    email: blankToNull(p['email'])?.toLowerCase() ?? null,
    firstName: blankToNull(p['firstname']),
    lastName: blankToNull(p['lastname']),
    phone: blankToNull(p['phone']),
    lifecycleStage: lifecycleStageOf(p['lifecyclestage']),
    createdAt: toDateTime(object.createdAt),
    updatedAt: toDateTime(object.updatedAt),
  };
}

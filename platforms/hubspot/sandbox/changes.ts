import { TransitionError } from '../../../sandboxes/world/changes.js';
import type { CrmContact, Customer, Person, World } from '../../../sandboxes/world/world.js';

/**
 * What can happen to a contact in HubSpot once the world is generated: it moves along the
 * lifecycle, its lead status changes, a person the world did not know becomes a contact. Checked
 * against the current state, applied in place (see sandboxes/world/changes.ts), so the sandbox
 * serves it from then on.
 */

export type LifecycleStage = CrmContact['lifecycleStage'];

/**
 * HubSpot's default lifecycle stages in their order. HubSpot only moves a contact forward through
 * them (going back means clearing the property first), and `other` is the last.
 */
export const LIFECYCLE_ORDER = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
] as const satisfies readonly LifecycleStage[];

/** HubSpot's default `hs_lead_status` options. */
export const LEAD_STATUSES = [
  'NEW',
  'OPEN',
  'IN_PROGRESS',
  'OPEN_DEAL',
  'UNQUALIFIED',
  'ATTEMPTED_TO_CONTACT',
  'CONNECTED',
  'BAD_TIMING',
] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** The stages a contact may move to from where it is: every later one. */
export function laterStages(stage: LifecycleStage): LifecycleStage[] {
  return LIFECYCLE_ORDER.slice(LIFECYCLE_ORDER.indexOf(stage) + 1);
}

export interface ContactChange {
  lifecycleStage?: LifecycleStage;
  leadStatus?: LeadStatus;
}

export interface AppliedContactChange {
  lifecycleStage?: { from: LifecycleStage; to: LifecycleStage };
  leadStatus?: { from: string | null; to: LeadStatus };
}

/** Sets a contact's properties as a HubSpot user or workflow would; `lastmodifieddate` moves too. */
export function changeContact(
  world: World,
  customer: Customer,
  change: ContactChange,
  at: number,
): AppliedContactChange {
  const { crm } = customer;
  const applied: AppliedContactChange = {};
  if (change.lifecycleStage !== undefined) {
    const allowed = laterStages(crm.lifecycleStage);
    if (!allowed.includes(change.lifecycleStage))
      throw new TransitionError(
        `Contact ${crm.id} is at lifecycle stage ${crm.lifecycleStage}; HubSpot only moves a stage forward, ` +
          (allowed.length > 0 ? `to ${allowed.join(', ')}.` : 'and this is the last one.'),
      );
    applied.lifecycleStage = { from: crm.lifecycleStage, to: change.lifecycleStage };
  }
  if (change.leadStatus !== undefined) {
    if (change.leadStatus === crm.leadStatus)
      throw new TransitionError(`Contact ${crm.id} already has lead status ${change.leadStatus}.`);
    applied.leadStatus = { from: crm.leadStatus ?? null, to: change.leadStatus };
  }
  if (!applied.lifecycleStage && !applied.leadStatus)
    throw new TransitionError('A contact change must set the lifecycle stage or the lead status.');
  if (applied.lifecycleStage) crm.lifecycleStage = applied.lifecycleStage.to;
  if (applied.leadStatus) crm.leadStatus = applied.leadStatus.to;
  crm.updatedAt = Math.max(crm.updatedAt, at);
  world.revision += 1;
  return applied;
}

/**
 * A person the world did not know, added as the CRM adds a contact (an upsert by an address no
 * contact has): a CRM record now, and nothing in the other systems until they say so. Their index
 * and CRM id follow every seeded one, by the same formulas.
 */
export function addCustomer(
  world: World,
  person: Omit<Person, 'index'>,
  crm: Pick<CrmContact, 'lifecycleStage'> & Partial<Pick<CrmContact, 'leadStatus' | 'properties'>>,
  at: number,
): Customer {
  // Customers are kept in index order, seeded and added alike.
  const index = Math.max(world.customers.length, (world.customers.at(-1)?.person.index ?? -1) + 1);
  const customer: Customer = {
    person: { ...person, email: person.email.toLowerCase(), index },
    crm: { id: String(10_000 + index * 17), createdAt: at, updatedAt: at, lists: [], ...crm },
  };
  world.customers.push(customer);
  world.byEmail.set(customer.person.email, customer);
  world.byCrmId.set(customer.crm.id, customer);
  world.revision += 1;
  return customer;
}

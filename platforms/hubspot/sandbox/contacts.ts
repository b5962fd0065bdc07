import { addCustomer, type LifecycleStage } from './changes.js';
import type { Customer, World } from '../../../sandboxes/world/world.js';
import { contactProperty } from './properties.js';

/**
 * The CRM's contacts over the world's customers: found by id or by email as HubSpot knows them
 * (an address written through the API replaces the person's in the CRM only), listed in id order,
 * written in place (moving `world.revision`, so every read shows the change) and created by an
 * upsert of an address no contact has.
 */

/** Addresses written through the API, per world, so every HubSpot sandbox of one world agrees. */
const writtenEmails = new WeakMap<World, Map<string, Customer>>();

/** Properties the world models as fields of its own; the rest are kept as written. */
const WORLD_FIELDS = new Set(['lifecyclestage', 'hs_lead_status']);

export class Contacts {
  private sortedFor = -1;
  private sorted: Customer[] = [];
  private readonly emails: Map<string, Customer>;

  constructor(private readonly world: World) {
    let emails = writtenEmails.get(world);
    if (!emails) {
      emails = new Map();
      writtenEmails.set(world, emails);
    }
    this.emails = emails;
  }

  /** Contacts in id order, the order HubSpot lists them in; re-sorted only when one was added. */
  ordered(): readonly Customer[] {
    if (this.sortedFor !== this.world.customers.length) {
      this.sorted = [...this.world.customers].sort((a, b) => Number(a.crm.id) - Number(b.crm.id));
      this.sortedFor = this.world.customers.length;
    }
    return this.sorted;
  }

  byId(id: string): Customer | undefined {
    return this.world.byCrmId.get(id);
  }

  /** The contact whose email property is `email` (case-insensitive). */
  byEmail(email: string): Customer | undefined {
    const key = email.toLowerCase();
    const written = this.emails.get(key);
    if (written) return written;
    const seeded = this.world.byEmail.get(key);
    return seeded && contactProperty(seeded, 'email')?.toLowerCase() === key ? seeded : undefined;
  }

  /** By `hs_object_id` (the default) or by email, as `idProperty` says; other properties find none. */
  find(id: string, idProperty: string | null | undefined): Customer | undefined {
    if (!idProperty || idProperty === 'hs_object_id') return this.byId(id);
    if (idProperty === 'email') return this.byEmail(id);
    return undefined;
  }

  /** Sets checked property values on a contact, as a HubSpot write does; `lastmodifieddate` moves. */
  write(customer: Customer, values: Record<string, string>, at: number): void {
    const { crm } = customer;
    for (const [name, value] of Object.entries(values)) {
      if (WORLD_FIELDS.has(name) && value !== '') {
        if (name === 'lifecyclestage') crm.lifecycleStage = value as LifecycleStage;
        else crm.leadStatus = value;
        if (crm.properties) delete crm.properties[name];
        continue;
      }
      if (name === 'email') {
        const before = contactProperty(customer, 'email')?.toLowerCase();
        if (before) this.emails.delete(before);
        if (value !== '') this.emails.set(value, customer);
      }
      crm.properties = { ...crm.properties, [name]: value };
    }
    crm.updatedAt = Math.max(crm.updatedAt, at);
    this.world.revision += 1;
  }

  /** A new contact for an address none has, with the written properties (a new person to the world). */
  create(email: string, values: Record<string, string>, at: number): Customer {
    const customer = addCustomer(
      this.world,
      {
        email,
        firstName: values['firstname'] ?? '',
        lastName: values['lastname'] ?? '',
        phone: values['phone'] ?? '',
      },
      // HubSpot's default stage for a contact created without one.
      { lifecycleStage: 'subscriber' },
      at,
    );
    const rest = Object.fromEntries(
      Object.entries(values).filter(([name]) => !['email', 'firstname', 'lastname', 'phone'].includes(name)),
    );
    if (Object.keys(rest).length > 0) this.write(customer, rest, at);
    return customer;
  }
}

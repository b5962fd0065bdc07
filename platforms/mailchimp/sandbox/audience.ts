import { newMember } from './changes.js';
import type { AudienceMember, Customer, World } from '../../../sandboxes/world/world.js';
import { subscriberHash, tagsOf, VIP_TAG, type AudienceEntry } from './members.js';

/**
 * The audience the sandbox serves and changes: the world's customers who joined it, plus addresses
 * only the audience knows (a client added someone the rest of the world has never seen). Writes
 * change the world's memberships in place and move `world.revision`, so every listing, look-up and
 * stat shows them from the next request on.
 */

export type WritableStatus = Exclude<AudienceMember['status'], 'archived'>;
export const WRITABLE_STATUSES = [
  'subscribed',
  'unsubscribed',
  'cleaned',
  'pending',
  'transactional',
] as const satisfies readonly WritableStatus[];

/** One member as a write describes it (PUT body, or one entry of a batch's `members`). */
export interface MemberWrite {
  email: string;
  /** The status to set, new member or not. */
  status?: WritableStatus;
  /** The status of a new (or archived, re-added) member when `status` is absent. */
  statusIfNew?: WritableStatus;
  /** Already checked against the audience's merge fields. */
  mergeFields?: Record<string, string>;
  /** Tags to add (or, with `replaceTags`, the whole set). */
  tags?: readonly string[];
}

/** Why Mailchimp refuses one member; `errorCode` is what a batch's `errors[]` says. */
export interface MemberRefusal {
  title: string;
  detail: string;
  errorCode: 'ERROR_GENERIC' | 'ERROR_CONTACT_EXISTS';
}

export type MemberWriteOutcome =
  { ok: true; entry: AudienceEntry; created: boolean } | ({ ok: false } & MemberRefusal);

/** Addresses only the audience knows get person indexes past any customer's. */
const OUTSIDER_INDEX_BASE = 10_000_000;

/**
 * What the audience holds beyond the world's customers, kept per world so every Mailchimp sandbox
 * serving one world (a slow twin in a test) sees the same members and tag ids.
 */
interface AudienceExtras {
  outsiders: Map<string, AudienceEntry>;
  tagIds: Map<string, number>;
}
const extrasByWorld = new WeakMap<World, AudienceExtras>();

function extrasOf(world: World): AudienceExtras {
  let extras = extrasByWorld.get(world);
  if (!extras) {
    extras = { outsiders: new Map(), tagIds: new Map([[VIP_TAG, 1]]) };
    extrasByWorld.set(world, extras);
  }
  return extras;
}

/** Statuses from which Mailchimp will not move a member to each status without their consent. */
const COMPLIANCE: Partial<Record<WritableStatus, readonly AudienceMember['status'][]>> = {
  subscribed: ['unsubscribed', 'cleaned'],
  pending: ['cleaned'],
};

export class Audience {
  /** Subscriber hash → customer, for every customer of the world (in the audience or not). */
  private readonly customerByHash = new Map<string, Customer>();
  private readonly hashes = new WeakMap<Customer, string>();
  private hashedCustomers = 0;
  private readonly outsiders: Map<string, AudienceEntry>;
  private readonly tagIds: Map<string, number>;
  /** The member list and its contact-id index, as of the membership counted in `key`. */
  private view: { key: string; members: AudienceEntry[]; byContactId?: Map<string, AudienceEntry> } = {
    key: '',
    members: [],
  };

  constructor(private readonly world: World) {
    ({ outsiders: this.outsiders, tagIds: this.tagIds } = extrasOf(world));
  }

  /**
   * Who is in the audience only ever grows (joining sets a customer's membership for good, and
   * changes update it in place; leaving is a status), so counting members tells whether the list
   * changed. Counting is a cheap pass; rebuilding after every write to a large audience is not.
   */
  private current(): typeof this.view {
    let joined = 0;
    for (const customer of this.world.customers) if (customer.audience) joined += 1;
    const key = `${this.world.customers.length}:${joined}:${this.outsiders.size}`;
    if (key !== this.view.key) {
      const members: AudienceEntry[] = [];
      for (const customer of this.world.customers) {
        if (customer.audience) members.push(this.entryOf(customer, customer.audience));
      }
      members.push(...this.outsiders.values());
      this.view = { key, members };
    }
    return this.view;
  }

  /** Hashes the customers added since the last look-up (the world only ever appends them). */
  private customerWithHash(hash: string): Customer | undefined {
    const { customers } = this.world;
    for (; this.hashedCustomers < customers.length; this.hashedCustomers++) {
      const customer = customers[this.hashedCustomers] as Customer;
      this.customerByHash.set(this.hashOf(customer), customer);
    }
    return this.customerByHash.get(hash);
  }

  /** A customer's subscriber hash, computed once: MD5 of a large audience is not free. */
  private hashOf(customer: Customer): string {
    let hash = this.hashes.get(customer);
    if (hash === undefined) {
      hash = subscriberHash(customer.person.email);
      this.hashes.set(customer, hash);
    }
    return hash;
  }

  private entryOf(customer: Customer, audience: AudienceMember): AudienceEntry {
    return { person: customer.person, audience, subscriberHash: this.hashOf(customer) };
  }

  /** Every member in Mailchimp's order (the world's, then those added only here), archived included. */
  members(): readonly AudienceEntry[] {
    return this.current().members;
  }

  private byHash(hash: string): AudienceEntry | undefined {
    const customer = this.customerWithHash(hash);
    if (customer?.audience) return this.entryOf(customer, customer.audience);
    return this.outsiders.get(hash);
  }

  /** Mailchimp takes the MD5 hash, the email address itself, or the contact id. */
  find(key: string): AudienceEntry | undefined {
    if (key.includes('@')) return this.byHash(subscriberHash(key));
    const found = this.byHash(key.toLowerCase());
    if (found) return found;
    const view = this.current();
    view.byContactId ??= new Map(view.members.map((m) => [m.audience.contactId, m]));
    return view.byContactId.get(key);
  }

  /** A tag's id, stable per name for the life of the sandbox (the seeded VIP tag is 1). */
  tagId(name: string): number {
    let id = this.tagIds.get(name);
    if (id === undefined) {
      id = this.tagIds.size + 1;
      this.tagIds.set(name, id);
    }
    return id;
  }

  /**
   * Adds or updates one member as Mailchimp's PUT and batch subscribe do. An archived member comes
   * back as if new. An existing member is updated only when `updateExisting` (a PUT always is),
   * and never into a status their earlier unsubscribe or bounce rules out.
   */
  write(
    input: MemberWrite,
    options: { updateExisting: boolean; replaceTags?: boolean; at: number },
  ): MemberWriteOutcome {
    const hash = subscriberHash(input.email);
    const existing = this.byHash(hash);
    const live = existing && existing.audience.status !== 'archived';
    if (live && !options.updateExisting) {
      return {
        ok: false,
        title: 'Member Exists',
        detail: `${input.email} is already a list member. Use PUT to insert or update list members.`,
        errorCode: 'ERROR_CONTACT_EXISTS',
      };
    }
    const target = live ? input.status : (input.status ?? input.statusIfNew);
    if (!live && target === undefined) {
      return {
        ok: false,
        title: 'Invalid Resource',
        detail: `${input.email} is not in the audience yet: give status_if_new (or status) to add them.`,
        errorCode: 'ERROR_GENERIC',
      };
    }
    const current = existing?.audience.status;
    if (live && target !== undefined && current !== undefined && COMPLIANCE[target]?.includes(current)) {
      return {
        ok: false,
        title: 'Member In Compliance State',
        detail: `${input.email} is already a list member in compliance state due to unsubscribe, bounce, or compliance review.`,
        errorCode: 'ERROR_GENERIC',
      };
    }
    const entry = existing ?? this.join(input.email, hash, options.at);
    const audience = entry.audience;
    if (target !== undefined && target !== audience.status) {
      if (target === 'subscribed') audience.optedInAt = options.at;
      audience.status = target;
    }
    if (input.mergeFields && Object.keys(input.mergeFields).length > 0)
      audience.mergeFields = { ...audience.mergeFields, ...input.mergeFields };
    if (input.tags) {
      const kept = options.replaceTags ? [] : tagsOf(audience);
      audience.tags = [...new Set([...kept, ...input.tags])];
    }
    audience.lastChangedAt = options.at;
    this.world.revision += 1;
    return { ok: true, entry, created: !live };
  }

  /** Adds (`active`) and removes tags on a member, as `POST …/members/{hash}/tags` does. */
  setTags(entry: AudienceEntry, changes: readonly { name: string; active: boolean }[], at: number): void {
    const tags = new Set(tagsOf(entry.audience));
    for (const change of changes) {
      if (change.active) tags.add(change.name);
      else tags.delete(change.name);
    }
    entry.audience.tags = [...tags];
    entry.audience.lastChangedAt = at;
    this.world.revision += 1;
  }

  /** Archives a member (`DELETE …/members/{hash}`): kept, readable, out of listings and stats. */
  archive(entry: AudienceEntry, at: number): void {
    if (entry.audience.status === 'archived') return;
    entry.audience.status = 'archived';
    entry.audience.lastChangedAt = at;
    this.world.revision += 1;
  }

  /** A membership for an address not in the audience: a customer's, or one only the audience knows. */
  private join(email: string, hash: string, at: number): AudienceEntry {
    const customer = this.customerWithHash(hash);
    if (customer) {
      customer.audience = newMember(this.world, customer.person.index, at);
      return this.entryOf(customer, customer.audience);
    }
    const index = OUTSIDER_INDEX_BASE + this.outsiders.size;
    const entry: AudienceEntry = {
      // Mailchimp keeps the address as written; only its hash is lower case.
      person: { email: email.trim(), firstName: '', lastName: '', index },
      audience: newMember(this.world, index, at),
      subscriberHash: hash,
    };
    this.outsiders.set(hash, entry);
    return entry;
  }
}

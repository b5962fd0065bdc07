import { randomUUID } from 'node:crypto';
import type { SandboxResponse } from '../../../sandboxes/kit/types.js';
import type { Customer } from '../../../sandboxes/world/world.js';
import { contactProperty } from './properties.js';

/** HubSpot's answers: its error body and its SimplePublicObject, shared by every route. */

export type Json = Record<string, unknown>;

const DEFAULT_PROPERTIES = [
  'createdate',
  'email',
  'firstname',
  'hs_object_id',
  'lastmodifieddate',
  'lastname',
];

/** HubSpot's error body: `{status: 'error', message, correlationId, category, …}`. */
export function error(status: number, category: string, message: string, extra: Json = {}): SandboxResponse {
  return { status, json: { status: 'error', message, correlationId: randomUUID(), category, ...extra } };
}

/** A contact as HubSpot answers it: the properties asked for (or its default set), always with its id and dates. */
export function toSimplePublicObject(customer: Customer, properties: readonly string[]): Json {
  const wanted =
    properties.length > 0
      ? [...new Set([...properties, 'hs_object_id', 'createdate', 'lastmodifieddate'])]
      : DEFAULT_PROPERTIES;
  return {
    id: customer.crm.id,
    properties: Object.fromEntries(wanted.map((name) => [name, contactProperty(customer, name)])),
    createdAt: new Date(customer.crm.createdAt).toISOString(),
    updatedAt: new Date(customer.crm.updatedAt).toISOString(),
    archived: false,
  };
}

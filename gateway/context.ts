import type { RequestContext } from '../lib/request-context.js';
import type { ClientIdentity } from './identity.js';

export interface GatewayContext {
  request: RequestContext;
  /** Who is calling; the key of everything per client. */
  client: ClientIdentity;
}

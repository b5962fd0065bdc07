import type { RequestContext } from '../lib/request-context.js';

export interface GatewayContext {
  request: RequestContext;
}

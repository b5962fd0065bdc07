import type { GraphQLFormattedError } from 'graphql';
import type { RequestContext } from '../lib/request-context.js';
import type { GateOutcome } from './auth/operation-gate.js';
import type { ClientIdentity } from './identity.js';

export interface GatewayContext {
  request: RequestContext;
  /**
   * The time the client gave the request (its `x-request-deadline-ms` or the default), from which
   * `request.deadline` was set; identical queries share an execution only when they gave the same.
   */
  budgetMs?: number;
  /** Who is calling; the key of everything per client. */
  client: ClientIdentity;
  /** What the operation gate removed, to be put back as nulls and FORBIDDEN errors. */
  authorization?: GateOutcome;
  /** The errors of the response, left by the record-errors plugin for the operation's log line. */
  errors?: readonly GraphQLFormattedError[] | undefined;
}

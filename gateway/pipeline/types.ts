import type { DocumentNode, GraphQLFormattedError, OperationTypeNode } from 'graphql';
import type { CredentialSource } from '../auth/authenticate.js';
import type { GateOutcome } from '../auth/operation-gate.js';
import type { ClientIdentity } from '../identity.js';

/** The transports an operation can arrive over; each only adapts input and output. */
export type Transport = 'http' | 'graphql-ws' | 'sse';

/** One GraphQL operation as a transport received it, before anything is checked. */
export interface OperationRequest {
  transport: Transport;
  credentials: CredentialSource;
  /** The HTTP method it came with (GET or POST); a socket message counts as POST. */
  method: 'GET' | 'POST';
  /** As received: checked by the pipeline, so unknown until then. */
  query: unknown;
  variables: unknown;
  operationName: unknown;
  requestId: string;
  /** The client's `x-request-deadline-ms` header, as received: how long it will wait (ms). */
  deadlineHeader?: string | string[] | undefined;
  /**
   * The long-lived connection it came over (graphql-ws), so subscriptions per connection are
   * capped; an SSE stream and an HTTP request are their own connection.
   */
  connectionId?: string;
}

/** Why an operation was not run: an HTTP status, errors with public codes, headers to send. */
export interface Refusal {
  status: number;
  errors: GraphQLFormattedError[];
  headers?: Record<string, string>;
  /**
   * A complete GraphQL result to answer with instead of errors alone (every field the caller asked
   * for was denied: the data is nulls).
   */
  data?: Record<string, null> | null;
}

/** An operation that passed every check, ready for the executor of its kind. */
export interface AdmittedOperation {
  transport: Transport;
  identity: ClientIdentity;
  kind: OperationTypeNode;
  /** The text to run: the client's, or the permission step's rewrite without denied fields. */
  query: string;
  /** The parsed document of `query`. */
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  /** What the permission step removed, to put back as nulls and FORBIDDEN errors. */
  authorization: GateOutcome;
  requestId: string;
  /** `performance.now()` when the request arrived, for the log line. */
  startedAt: number;
  /**
   * Epoch ms when the request arrived, and how long the client will wait from then (its
   * `x-request-deadline-ms`, or the default): the deadline every subgraph and platform call keeps.
   */
  arrivedAt: number;
  budgetMs: number;
  /** Gives back the subscription slot this operation holds (no-op for queries and mutations). */
  release(): void;
}

export type Admission = { ok: true; operation: AdmittedOperation } | { ok: false; refusal: Refusal };

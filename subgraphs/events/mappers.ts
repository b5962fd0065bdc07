import type { ConnectionHistory, HealthHistorySpan } from '../../lib/health/history/keeper.js';
import type { DeliveredEvent } from '../../lib/events/event.js';
import type { DeadLetter } from '../../lib/events/log/types.js';
import type { WindowFigures } from '../../lib/health/recorder.js';
import type { Integration } from '../../monitoring/health-model.js';
import type { Endpoint } from '../../deliveries/endpoint.js';
import type { AttemptRecord, OutboxMessage } from '../../deliveries/store/types.js';
import type { RunSample } from '../../syncs/engine.js';
import type { RunRecord, RunRow } from '../../syncs/state.js';

/** A customer as the events subgraph knows them: by the email key the other subgraphs resolve. */
export interface CustomerReference {
  email: string;
}

export interface EventEdgeModel {
  cursor: string;
  node: DeliveredEvent;
}

export interface EventConnectionModel {
  edges: EventEdgeModel[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export type MarketingEventModel = DeliveredEvent;
export type DeadLetterModel = DeadLetter;

export type IntegrationModel = Integration;
export type HealthWindowModel = WindowFigures;
export type IntegrationHistoryModel = HealthHistorySpan;
export type IntegrationHistoryRowModel = ConnectionHistory;
export type WebhookEndpointModel = Endpoint;
export type WebhookMessageModel = OutboxMessage;
export type WebhookAttemptModel = AttemptRecord;

export interface WebhookPageModel<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
export type WebhookMessagePageModel = WebhookPageModel<OutboxMessage>;
export type WebhookAttemptPageModel = WebhookPageModel<AttemptRecord>;

export interface CreatedWebhookEndpointModel {
  endpoint: Endpoint;
  secret: string;
}
export interface RotatedWebhookSecretModel {
  endpoint: Endpoint;
  secret: string;
  previousSecretsExpireAt: string;
}
export interface RecoveredWebhookMessagesModel {
  endpoint: Endpoint;
  recovered: number;
}

/** A run from the history, or a dry run's preview (status DRY_RUN, id 0, never stored). */
export type SyncRunModel = Omit<RunRecord, 'status'> & {
  status: RunRecord['status'] | 'DRY_RUN';
  preview?: SyncRunPreviewModel;
};

export interface SyncRunPreviewModel {
  calls: number;
  samples: RunSample[];
  quarantined: RunRow[];
}

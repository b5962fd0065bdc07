import type { DeliveredEvent } from '../../lib/events/event.js';
import type { DeadLetter } from '../../lib/events/log/types.js';
import type { WindowFigures } from '../../lib/health/recorder.js';
import type { Integration } from '../../monitoring/health-model.js';

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

import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `events` subgraph: GraphQL types mapped to the event log's records. */
export const eventsCodegen: SubgraphCodegen = {
  contextType: '../context.js#EventsContext',
  mappers: {
    MarketingEvent: '../mappers.js#MarketingEventModel',
    DeadLetter: '../mappers.js#DeadLetterModel',
    Customer: '../mappers.js#CustomerReference',
    EventConnection: '../mappers.js#EventConnectionModel',
    EventEdge: '../mappers.js#EventEdgeModel',
    Sync: '../../../syncs/service.js#SyncListing',
    SyncRun: '../mappers.js#SyncRunModel',
    SyncRunPreview: '../mappers.js#SyncRunPreviewModel',
    SyncRunSample: '../../../syncs/engine.js#RunSample',
    SyncRunCounts: '../../../syncs/state.js#RunCounts',
    SyncRunRow: '../../../syncs/state.js#RunRow',
    Integration: '../mappers.js#IntegrationModel',
    HealthWindowFigures: '../mappers.js#HealthWindowModel',
    IntegrationHistory: '../mappers.js#IntegrationHistoryModel',
    IntegrationHistoryRow: '../mappers.js#IntegrationHistoryRowModel',
    WebhookEndpoint: '../mappers.js#WebhookEndpointModel',
    WebhookMessage: '../mappers.js#WebhookMessageModel',
    WebhookAttempt: '../mappers.js#WebhookAttemptModel',
    WebhookMessagePage: '../mappers.js#WebhookMessagePageModel',
    WebhookAttemptPage: '../mappers.js#WebhookAttemptPageModel',
    CreatedWebhookEndpoint: '../mappers.js#CreatedWebhookEndpointModel',
    RotatedWebhookSecret: '../mappers.js#RotatedWebhookSecretModel',
    RecoveredWebhookMessages: '../mappers.js#RecoveredWebhookMessagesModel',
  },
};

/**
 * What the alerts read about one connection (a platform client, a webhook source, an outbound
 * endpoint or action, a sync): the health model's figures at one moment. The health model fills it
 * (issue 16, "The health model"); the alerts only read it, so they are tested on snapshots alone.
 * A `client` is a caller of the gateway (`client:personalization-service`): its usage figures come
 * from the least-privilege work's anomaly detector (gateway/auth/anomaly.ts), not from the recorder.
 */
export const CONNECTION_KINDS = [
  'platform',
  'webhook-source',
  'endpoint',
  'action',
  'sync',
  'client',
] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

export interface ConnectionHealth {
  /** Unique among connections: `hubspot`, `webhooks:shopify`, `endpoint:ep_123`, `sync:vip-customers`. */
  name: string;
  kind: ConnectionKind;
  /** The platform behind it, when there is one. */
  platform?: string;
  /** Share of calls (or deliveries, or runs) that failed over the last 5 minutes, 0..1; null with no traffic. */
  errorRate: number | null;
  /** Seconds since the last success (read, webhook received, delivery, sync run); null when never. */
  freshnessSeconds: number | null;
  /** How long without a success counts as stale for this connection (from its usual rate); null: never stale. */
  staleAfterSeconds: number | null;
  /** Share of the upstream rate-limit budget left, 0..1; null when the platform does not say. */
  budgetLeft: number | null;
  /** The API version in use and the day it leaves support (ISO date), when known. */
  version?: { inUse: string; supportedUntil: string | null };
  /** The last sync run failed (syncs only). */
  lastRunFailed?: boolean;
  /** Rows the destination rejected in the last sync run (syncs only). */
  rowsRejected?: number;
  /** Messages that used every attempt, over the last hour (endpoints and actions). */
  deliveriesExhausted?: number;
  /** The endpoint was disabled (410 Gone or failing for 5 days). */
  disabled?: boolean;
  /** Per-client usage spikes counted over the last 15 minutes (the gateway's anomaly counter). */
  clientAnomalies?: number;
  /** A client's usage per signal (`requests`, `denied_fields`, `auth_failures`): clients only. */
  clientUsage?: { windowMs: number; signals: Partial<Record<string, ClientSignalFigures>> };
  /** Fields the client was denied for the first time ever, with when (epoch ms): clients only. */
  clientFirstDenials?: { item: string; at: number }[];
  /** The last error, for the notice. */
  lastError?: { at: string; code: string; message: string };
}

/** One usage signal of one client: the window under way and the one before, each with its baseline. */
export interface ClientSignalFigures {
  current: number;
  /** Moving average of past windows; null before a window closed. */
  baseline: number | null;
  /** The window just before, judged against the baseline of its own time. */
  previous: { count: number; baseline: number | null } | null;
}

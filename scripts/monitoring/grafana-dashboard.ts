/**
 * The Grafana dashboard shipped in docs/monitoring/grafana-dashboard.json, written from this list of
 * panels so its queries stay next to the code that names the metrics (a test checks every metric
 * and label a query uses exists, and that the file equals a fresh generation).
 * Run: `npx tsx scripts/monitoring/grafana-dashboard.ts` (or `npm run docs`).
 */

interface Panel {
  title: string;
  description: string;
  unit: 'reqps' | 'percentunit' | 's' | 'short' | 'bytes';
  /** PromQL; `legend` is Grafana's legend format. */
  targets: { expr: string; legend: string }[];
}

interface Row {
  title: string;
  panels: Panel[];
}

export const DASHBOARD_ROWS: Row[] = [
  {
    title: 'Platforms (upstream calls)',
    panels: [
      {
        title: 'Calls per second by platform',
        description: 'Every call the platform clients made, by platform.',
        unit: 'reqps',
        targets: [
          {
            expr: 'sum by (platform) (rate(upstream_calls_total[$__rate_interval]))',
            legend: '{{platform}}',
          },
        ],
      },
      {
        title: 'Error ratio by platform',
        description: 'Share of calls that did not answer 2xx (HTTP errors, 429s, timeouts, bad bodies).',
        unit: 'percentunit',
        targets: [
          {
            expr: 'sum by (platform) (rate(upstream_calls_total{status!~"2.."}[$__rate_interval])) / sum by (platform) (rate(upstream_calls_total[$__rate_interval]))',
            legend: '{{platform}}',
          },
        ],
      },
      {
        title: 'Latency p95 by platform',
        description: "From sending a call to the platform's full answer.",
        unit: 's',
        targets: [
          {
            expr: 'histogram_quantile(0.95, sum by (platform, le) (rate(upstream_latency_seconds_bucket[$__rate_interval])))',
            legend: '{{platform}}',
          },
        ],
      },
      {
        title: 'Time waiting for rate limits (p95)',
        description: "How long calls queue in the client's throttle so the platform never answers 429.",
        unit: 's',
        targets: [
          {
            expr: 'histogram_quantile(0.95, sum by (platform, le) (rate(upstream_queued_seconds_bucket[$__rate_interval])))',
            legend: '{{platform}}',
          },
        ],
      },
      {
        title: '429s and breaker openings',
        description: 'Rate-limited answers the throttle did not prevent, and circuit breakers opening.',
        unit: 'short',
        targets: [
          {
            expr: 'sum by (platform) (increase(upstream_calls_total{status="429"}[$__rate_interval]))',
            legend: '429 {{platform}}',
          },
          {
            expr: 'sum by (platform) (increase(upstream_breaker_opened_total[$__rate_interval]))',
            legend: 'breaker {{platform}}',
          },
        ],
      },
      {
        title: 'Record cache hit ratio',
        description: 'Reads answered from the record cache.',
        unit: 'percentunit',
        targets: [
          {
            expr: 'sum(rate(cache_hits_total[$__rate_interval])) / (sum(rate(cache_hits_total[$__rate_interval])) + sum(rate(cache_misses_total[$__rate_interval])))',
            legend: 'hit ratio',
          },
        ],
      },
    ],
  },
  {
    title: 'Gateway',
    panels: [
      {
        title: 'Operations per second by outcome',
        description: 'GraphQL operations answered, over every transport.',
        unit: 'reqps',
        targets: [
          {
            expr: 'sum by (outcome) (rate(graphql_operations_total[$__rate_interval]))',
            legend: '{{outcome}}',
          },
        ],
      },
      {
        title: 'Refused operations and rate-limited clients',
        description: 'Operations refused by limits or permissions, and callers over their rate limit.',
        unit: 'short',
        targets: [
          { expr: 'sum(increase(graphql_operations_refused_total[$__rate_interval]))', legend: 'refused' },
          {
            expr: 'sum by (client) (increase(client_rate_limited_total[$__rate_interval]))',
            legend: 'rate limited {{client}}',
          },
        ],
      },
      {
        title: 'Active subscriptions',
        description: 'Subscriptions open over graphql-ws and SSE.',
        unit: 'short',
        targets: [{ expr: 'sum(subscriptions_active)', legend: 'active' }],
      },
    ],
  },
  {
    title: 'Events (webhooks in)',
    panels: [
      {
        title: 'Webhooks received and refused',
        description: 'Webhooks by source, and those refused by reason.',
        unit: 'reqps',
        targets: [
          { expr: 'sum by (source) (rate(webhooks_received_total[$__rate_interval]))', legend: '{{source}}' },
          {
            expr: 'sum by (source, reason) (rate(webhooks_rejected_total[$__rate_interval]))',
            legend: 'refused {{source}} {{reason}}',
          },
        ],
      },
      {
        title: 'Webhook acknowledgement p99',
        description: 'From the request to its 2xx, after the event is durably stored.',
        unit: 's',
        targets: [
          {
            expr: 'histogram_quantile(0.99, sum by (le) (rate(webhooks_ack_latency_seconds_bucket[$__rate_interval])))',
            legend: 'p99',
          },
        ],
      },
      {
        title: 'Processing lag and pending events',
        description: 'Age of the oldest pending event, and how many wait.',
        unit: 's',
        targets: [
          { expr: 'max(event_log_lag_seconds)', legend: 'lag' },
          { expr: 'max(event_log_pending)', legend: 'pending' },
        ],
      },
      {
        title: 'Dead-lettered events',
        description: 'Events that failed every processing attempt, by type.',
        unit: 'short',
        targets: [
          {
            expr: 'sum by (type) (increase(events_dead_lettered_total[$__rate_interval]))',
            legend: '{{type}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Processes',
    panels: [
      {
        title: 'Event loop lag p99',
        description: 'An overloaded process, told apart from a slow platform.',
        unit: 's',
        targets: [{ expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds)', legend: '{{instance}}' }],
      },
      {
        title: 'Resident memory',
        description: 'Per process.',
        unit: 'bytes',
        targets: [{ expr: 'max by (instance) (process_resident_memory_bytes)', legend: '{{instance}}' }],
      },
    ],
  },
];

const PANEL_WIDTH = 8;
const PANEL_HEIGHT = 8;

/** Grafana's dashboard JSON (schema 39), importable as is; the datasource is picked on import. */
export function grafanaDashboard(): object {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const row of DASHBOARD_ROWS) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    row.panels.forEach((panel, index) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: panel.title,
        description: panel.description,
        datasource: { type: 'prometheus', uid: '${datasource}' },
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        gridPos: {
          h: PANEL_HEIGHT,
          w: PANEL_WIDTH,
          x: (index % 3) * PANEL_WIDTH,
          y: y + Math.floor(index / 3) * PANEL_HEIGHT,
        },
        targets: panel.targets.map((target, t) => ({
          refId: String.fromCharCode(65 + t),
          datasource: { type: 'prometheus', uid: '${datasource}' },
          expr: target.expr,
          legendFormat: target.legend,
        })),
      });
    });
    y += Math.ceil(row.panels.length / 3) * PANEL_HEIGHT;
  }
  return {
    title: 'marketing-graph',
    uid: 'marketing-graph',
    description: 'Integration health of the marketing data gateway: platforms, gateway, events, processes.',
    tags: ['marketing-graph'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus', current: {} },
      ],
    },
    panels,
  };
}

export const GRAFANA_DASHBOARD_FILE = 'docs/monitoring/grafana-dashboard.json';

/** The file's text: the dashboard as the repository's Prettier writes JSON. */
export async function renderGrafanaDashboard(): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(GRAFANA_DASHBOARD_FILE)) ?? {};
  return prettier.format(JSON.stringify(grafanaDashboard()), { ...options, parser: 'json' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(GRAFANA_DASHBOARD_FILE, await renderGrafanaDashboard());
  console.log(`Wrote ${GRAFANA_DASHBOARD_FILE}.`);
}

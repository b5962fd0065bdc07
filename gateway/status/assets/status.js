/* global document, window, sessionStorage, fetch, AbortController, TextDecoder, URLSearchParams */
// The status page's script: reads `integrations` from /graphql with the pasted key and draws one
// row per connection. It follows `integrationStatusChanged` over Server-Sent Events
// (/graphql/stream), so a row changes colour as soon as the gateway sees the change; while that
// stream is up the full table is re-read every minute (figures such as "last success" move on
// their own), and every 5 seconds while it is down, so the page degrades to polling. `?poll=<s>`
// sets the polling interval (tests set it long to show a change arrives without a poll). Data is
// written with textContent only, never as HTML.

const params = new URLSearchParams(window.location.search);
const POLL_MS = Number(params.get('poll')) > 0 ? Number(params.get('poll')) * 1000 : 5000;
const LIVE_POLL_MS = Math.max(POLL_MS, 60_000);
const RECONNECT_MS = 5000;
const KEY_STORAGE = 'marketing-graph.status.key';
const FIELDS = `
    name kind platform status freshness staleAfter successRate errorRate
    latency { p50 p95 p99 }
    fiveMinutes: window(span: FIVE_MINUTES) { calls errors errorsByClass { errorClass count } }
    oneHour: window(span: ONE_HOUR) { calls errors errorsByClass { errorClass count } }
    oneDay: window(span: ONE_DAY) { calls errors errorsByClass { errorClass count } }
    budget breakerOpen
    version { inUse latest supportedUntil warnings }
    lastError { at code message }
    history { minute calls errors }`;
const QUERY = `query StatusPage { integrations { ${FIELDS} } }`;
const SUBSCRIPTION = `subscription StatusPageLive { integrationStatusChanged { name status integration { ${FIELDS} } } }`;

const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
};
const percent = (ratio) => (ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(1)}%`);
const ago = (seconds) => {
  if (seconds === null || seconds === undefined) return 'never';
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${(seconds / 3600).toFixed(1)} h ago`;
};

/** The last hour as bars (calls, failures in red): an inline SVG, no library. */
function sparkline(history) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const width = 120;
  const height = 24;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  const total = history.reduce((sum, point) => sum + point.calls, 0);
  svg.setAttribute('aria-label', `${total} calls in the last hour`);
  const max = Math.max(1, ...history.map((point) => point.calls));
  const step = width / Math.max(1, history.length);
  const bar = (i, count, className) => {
    const barHeight = (count / max) * height;
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('x', String(i * step));
    rect.setAttribute('y', String(height - barHeight));
    rect.setAttribute('width', String(Math.max(1, step - 0.5)));
    rect.setAttribute('height', String(barHeight));
    rect.setAttribute('class', className);
    svg.append(rect);
  };
  history.forEach((point, i) => {
    bar(i, point.calls, 'calls');
    if (point.errors > 0) bar(i, point.errors, 'errors');
  });
  return svg;
}

let selected = null;
let latest = [];

function cell(row, label, content) {
  const td = el('td');
  td.dataset.label = label;
  if (typeof content === 'string') td.textContent = content;
  else td.append(content);
  row.append(td);
  return td;
}

function renderTable(integrations) {
  const body = document.querySelector('#connections tbody');
  body.replaceChildren();
  for (const integration of integrations) {
    const row = el('tr');
    row.dataset.name = integration.name;
    row.dataset.status = integration.status;
    row.tabIndex = 0;
    row.className = `status-${integration.status.toLowerCase()}`;
    const name = el('span', integration.name, 'name');
    const kind = el('span', integration.kind.toLowerCase().replace('_', ' '), 'kind');
    const first = el('div');
    first.append(name, kind);
    cell(row, 'Connection', first);
    cell(row, 'Status', el('span', integration.status, 'badge'));
    cell(row, 'Last success', ago(integration.freshness));
    cell(row, 'Success (5 min)', percent(integration.successRate));
    cell(row, 'Latency p95', integration.latency ? `${integration.latency.p95} ms` : '—');
    cell(row, 'Budget left', percent(integration.budget));
    const version = integration.version;
    const versionText = version ? `${version.inUse ?? '—'}${version.warnings.length ? ' ⚠' : ''}` : '—';
    const versionCell = cell(row, 'API version', versionText);
    if (version && version.warnings.length) versionCell.title = version.warnings.join('\n');
    cell(row, 'Last hour', sparkline(integration.history));
    const open = () => {
      selected = integration.name;
      renderDetails();
    };
    row.addEventListener('click', open);
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') open();
    });
    body.append(row);
  }
  document.getElementById('connections').hidden = false;
}

function windowBlock(title, figures) {
  const block = el('div', undefined, 'window');
  block.append(el('h3', title));
  block.append(el('p', `${figures.calls} calls, ${figures.errors} failed`));
  if (figures.errorsByClass.length) {
    const list = el('ul');
    for (const entry of figures.errorsByClass) list.append(el('li', `${entry.errorClass}: ${entry.count}`));
    block.append(list);
  }
  return block;
}

function renderDetails() {
  const section = document.getElementById('details');
  const integration = latest.find((candidate) => candidate.name === selected);
  if (!integration) {
    section.hidden = true;
    return;
  }
  section.replaceChildren();
  section.append(el('h2', `${integration.name}: ${integration.status}`));
  const windows = el('div', undefined, 'windows');
  windows.append(
    windowBlock('Last 5 minutes', integration.fiveMinutes),
    windowBlock('Last hour', integration.oneHour),
    windowBlock('Last 24 hours', integration.oneDay),
  );
  section.append(windows);
  if (integration.latency)
    section.append(
      el(
        'p',
        `Latency p50 ${integration.latency.p50} ms, p95 ${integration.latency.p95} ms, p99 ${integration.latency.p99} ms`,
      ),
    );
  if (integration.staleAfter !== null)
    section.append(
      el('p', `Stale after ${Math.round(integration.staleAfter)} s without a success (its usual rate).`),
    );
  if (integration.breakerOpen)
    section.append(
      el('p', 'Circuit breaker open: calls are refused until the platform answers again.', 'warning'),
    );
  if (integration.lastError)
    section.append(
      el(
        'p',
        `Last error ${integration.lastError.at}: ${integration.lastError.code} ${integration.lastError.message}`,
        'error',
      ),
    );
  for (const warning of integration.version?.warnings ?? []) section.append(el('p', warning, 'warning'));
  section.hidden = false;
}

function renderAll() {
  const summary = document.getElementById('summary');
  const down = latest.filter((i) => i.status !== 'OK' && i.status !== 'IDLE').length;
  summary.textContent = `${latest.length} connections, ${down} need attention. Updated ${new Date().toLocaleTimeString()}${live ? ', live' : ''}.`;
  summary.className = down ? 'attention' : 'ok';
  renderTable(latest);
  renderDetails();
}

let timer;
async function refresh() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const summary = document.getElementById('summary');
  if (!key) return;
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: QUERY }),
    });
    const answer = await response.json();
    if (answer.errors?.length) {
      summary.textContent = `Refused: ${answer.errors[0].message} (${answer.errors[0].extensions?.code ?? response.status})`;
      summary.className = 'refused';
      return;
    }
    latest = answer.data.integrations;
    renderAll();
    follow(key);
  } catch {
    summary.textContent = 'The gateway does not answer; retrying.';
    summary.className = 'refused';
  } finally {
    schedule();
  }
}

function schedule() {
  window.clearTimeout(timer);
  timer = window.setTimeout(refresh, live ? LIVE_POLL_MS : POLL_MS);
}

/** One change from the stream: its connection's row replaced (or removed when it is gone). */
function apply(change) {
  const others = latest.filter((integration) => integration.name !== change.name);
  latest = change.integration
    ? [...others, change.integration].sort((a, b) => a.name.localeCompare(b.name))
    : others;
  renderAll();
}

let live = false;
let stream; // the AbortController of the open stream, if any
let streamKey;

function setLive(on) {
  live = on;
  document.body.dataset.live = on ? 'on' : 'off';
}

/**
 * Follows `integrationStatusChanged` over graphql-sse (distinct connections: one POST answered
 * with a text/event-stream). fetch rather than EventSource, which cannot send the key in a header.
 * When the stream ends or fails, polling takes over at its usual pace and the stream is retried.
 */
function follow(key) {
  if (stream && streamKey === key) return;
  stream?.abort();
  const controller = new AbortController();
  stream = controller;
  streamKey = key;
  void (async () => {
    try {
      const response = await fetch('/graphql/stream', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${key}`,
        },
        body: JSON.stringify({ query: SUBSCRIPTION }),
        signal: controller.signal,
      });
      if (!response.ok || !response.body) return;
      setLive(true);
      schedule();
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const lines = message.split('\n');
          const event = lines
            .find((line) => line.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (event === 'complete') return;
          if (event !== 'next' || !data) continue;
          const result = JSON.parse(data);
          const change = result.data?.integrationStatusChanged;
          if (change) apply(change);
        }
      }
    } catch {
      // Dropped (the gateway restarted, the network): polling carries on.
    } finally {
      if (stream === controller) {
        stream = undefined;
        setLive(false);
        if (!controller.signal.aborted) {
          schedule();
          window.setTimeout(() => {
            const current = sessionStorage.getItem(KEY_STORAGE);
            if (current && !stream) follow(current);
          }, RECONNECT_MS);
        }
      }
    }
  })();
}

document.getElementById('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('key');
  if (input.value.trim()) sessionStorage.setItem(KEY_STORAGE, input.value.trim());
  input.value = '';
  stream?.abort();
  stream = undefined;
  setLive(false);
  void refresh();
});
setLive(false);
void refresh();

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { generateGatewayKeys, GatewayTokenSigner } from '../../lib/auth/gateway-token.js';
import { startTracing } from '../../lib/telemetry/tracing-sdk.js';
import { stopTracing } from '../../lib/telemetry/tracing.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { as } from '../helpers/clients.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { eventually } from '../helpers/gateway-process.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';
import { startTestStack } from '../helpers/stack.js';
import { startSubgraphProcess } from '../helpers/subgraph-process.js';

/**
 * Issue 16: OpenTelemetry traces. One operation is one trace: Apollo Gateway's spans, the
 * subgraph's server span (continued from the `traceparent` the gateway sends over HTTP) and the
 * platform calls under it. Across processes, a subgraph run alone exports its spans over OTLP to
 * the collector in OTEL_EXPORTER_OTLP_ENDPOINT, in the caller's trace.
 */
const exporter = new InMemorySpanExporter();

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('traces in one process (npm start): gateway → subgraph → platform', () => {
  let stack: Stack;
  beforeAll(async () => {
    startTracing({ serviceName: 'tracing-test', processor: new SimpleSpanProcessor(exporter) });
    stack = await startTestStack({ customers: 30, rateLimits: false, responseCache: false });
  });
  afterAll(async () => {
    await stack?.close();
    await stopTracing();
  });

  it('should put the gateway, subgraph and platform spans of one operation in one trace, each under its caller', async () => {
    exporter.reset();
    const email = stack.world.customers[0]!.person.email;
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: as('personalization-service', { 'content-type': 'application/json' }),
      body: JSON.stringify({
        query: `query Profile($email: String!) { customer(email: $email) { id email orders(first: 2) { id } } }`,
        variables: { email },
      }),
    });
    const body = (await response.json()) as {
      data?: { customer: { email: string } | null };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    expect(body.data?.customer?.email).toBe(email);

    const spans = await eventually(
      () => Promise.resolve(exporter.getFinishedSpans()),
      (finished) => finished.some((s) => s.name === 'gateway.request'),
    );
    const request = spans.find((s) => s.name === 'gateway.request')!;
    const traceId = request.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]));
    const ancestors = (span: ReadableSpan): string[] => {
      const names: string[] = [];
      for (let p = parentOf(span); p && byId.has(p); p = parentOf(byId.get(p)!))
        names.push(byId.get(p)!.name);
      return names;
    };

    const subgraphSpans = inTrace.filter((s) => s.name.startsWith('subgraph '));
    expect(subgraphSpans.map((s) => s.name).sort()).toEqual(['subgraph commerce', 'subgraph crm']);
    for (const span of subgraphSpans) {
      // Continued from the gateway's fetch span through the traceparent header.
      expect(byId.get(parentOf(span)!)?.name).toBe('gateway.fetch');
      expect(ancestors(span)).toContain('gateway.request');
    }
    const upstream = inTrace.filter((s) => s.name.startsWith('upstream '));
    expect(upstream.map((s) => s.attributes['upstream.platform']).sort()).toEqual(
      expect.arrayContaining(['hubspot', 'shopify']),
    );
    for (const span of upstream) {
      expect(ancestors(span).some((name) => name.startsWith('subgraph '))).toBe(true);
      expect(span.attributes['http.response.status_code']).toBe(200);
    }
    // Nothing of the operation outside its trace: every subgraph and upstream span is in it.
    const stray = spans.filter(
      (s) =>
        (s.name.startsWith('subgraph ') || s.name.startsWith('upstream ')) &&
        s.spanContext().traceId !== traceId,
    );
    expect(stray).toEqual([]);
  });
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

describe('traces across processes: a subgraph run alone exports over OTLP in its caller’s trace', () => {
  let sandbox: RunningSandbox;
  let crm: CliProcess;
  let collector: ReturnType<typeof createServer>;
  const received: { service: string; span: OtlpSpan }[] = [];
  let signer: GatewayTokenSigner;

  beforeAll(async () => {
    // The collector: OTLP/HTTP with JSON bodies, as @opentelemetry/exporter-trace-otlp-http sends.
    collector = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const batch = JSON.parse(raw) as OtlpExport;
          for (const resource of batch.resourceSpans) {
            const service =
              resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
            for (const scope of resource.scopeSpans)
              for (const span of scope.spans) received.push({ service, span });
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    sandbox = await startSandbox('hubspot', { rateLimits: false, customers: 20 });
    const keys = await generateGatewayKeys();
    signer = new GatewayTokenSigner(keys.privateJwk);
    crm = await startSubgraphProcess('crm', {
      HUBSPOT_BASE_URL: sandbox.baseUrl,
      HUBSPOT_ACCESS_TOKEN: DEMO_CREDENTIALS.hubspot.accessToken,
      GATEWAY_TOKEN_JWKS: JSON.stringify(keys.publicJwks),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });
  afterAll(async () => {
    if (crm && crm.child.exitCode === null) {
      crm.child.kill('SIGTERM');
      await crm.exited;
    }
    await sandbox?.close();
    await new Promise((resolve) => collector?.close(resolve));
  });

  it('should export the subgraph’s and its platform call’s spans under the traceparent it was called with', async () => {
    // The caller's side of the trace (what the gateway's fetch span would send).
    startTracing({ serviceName: 'caller', processor: new SimpleSpanProcessor(new InMemorySpanExporter()) });
    try {
      const email = sandbox.world.customers[0]!.person.email;
      const body = JSON.stringify({ query: `{ customer(email: "${email}") { id } }` });
      const token = await signer.tokenFor(
        'crm',
        { clientId: 'tracing-test', scopes: ['crm:read'] },
        { body },
      );
      const caller = trace.getTracer('test').startSpan('caller.fetch');
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      };
      propagation.inject(trace.setSpan(context.active(), caller), headers);
      const traceId = caller.spanContext().traceId;
      const response = await fetch(`${crm.origin}/graphql`, { method: 'POST', headers, body });
      caller.end();
      expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();

      const spans = await eventually(
        () => Promise.resolve(received.filter((r) => r.span.traceId === traceId)),
        (mine) => mine.some((r) => r.span.name.startsWith('upstream ')),
      );
      const server = spans.find((r) => r.span.name === 'subgraph crm');
      expect(server?.service).toBe('marketing-graph-subgraph-crm');
      expect(server?.span.parentSpanId).toBe(caller.spanContext().spanId);
      const upstream = spans.find((r) => r.span.name.startsWith('upstream hubspot'));
      expect(upstream?.span.parentSpanId).toBe(server?.span.spanId);
    } finally {
      await stopTracing();
    }
  });
});

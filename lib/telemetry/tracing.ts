import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { coreCatalog } from '../config/catalog.js';
import { loadEnv } from '../config/env.js';
import type { Logger } from '../logger.js';

/**
 * OpenTelemetry traces: one trace per operation from the gateway through each subgraph to each
 * platform call, whichever processes they run in. `@apollo/gateway` makes its own spans
 * (`gateway.request`, `gateway.plan`, `gateway.execute`, `gateway.fetch`) through the global
 * tracer; the gateway passes the fetch span's context to the subgraph in `traceparent` (W3C Trace
 * Context), the subgraph continues it (`subgraph <name>`), and every upstream call is a client span
 * (`upstream <platform> <endpoint>`).
 *
 * Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: with
 * no provider registered, `@opentelemetry/api` hands out no-op spans, so a process without tracing
 * pays a function call per span and sends no header. The OTLP exporter reads the standard `OTEL_*`
 * variables itself (headers, timeout, protocol http/json).
 */

const tracer = () => trace.getTracer('marketing-graph');

/** Stops the registered provider (set by `tracing-sdk.ts` when tracing starts). */
let stopProvider: (() => Promise<void>) | undefined;

/** Called by `tracing-sdk.ts` once its provider is registered. */
export function onTracingStarted(stop: () => Promise<void>): void {
  stopProvider = stop;
}

/**
 * Starts tracing with the OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; a no-op
 * otherwise. The variables are checked like any configuration (a bad URL stops the process with
 * the variable's name); the exporter then reads them itself. The SDK and exporter (some 300
 * modules) load only then: a process without tracing starts without them.
 */
export async function startTracingFromEnv(
  serviceName: string,
  logger: Logger,
  source = process.env,
): Promise<void> {
  const config = loadEnv(coreCatalog, TRACING_ENV, source);
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT || stopProvider) return;
  const name = config.OTEL_SERVICE_NAME ?? serviceName;
  const { startOtlpTracing } = await import('./tracing-sdk.js');
  startOtlpTracing(name, `${config.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`);
  logger.info({ serviceName: name }, 'OpenTelemetry traces export over OTLP');
}

/** What every server process reads for tracing. */
export const TRACING_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME'] as const;

/** Sends what is buffered and stops; safe to call when tracing never started. */
export async function stopTracing(): Promise<void> {
  const stop = stopProvider;
  stopProvider = undefined;
  if (!stop) return;
  await stop();
  trace.disable();
  propagation.disable();
  context.disable();
}

const headerSetter: TextMapSetter<{ set(name: string, value: string): void }> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** Adds the active span's `traceparent` (and `tracestate`) to outgoing headers; nothing when off. */
export function injectTraceContext(headers: { set(name: string, value: string): void }): void {
  propagation.inject(context.active(), headers, headerSetter);
}

const incomingGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/**
 * Runs `work` in a server span continuing the caller's trace (its `traceparent`), ending the span
 * when `work` settles; an exception marks the span as an error and is rethrown.
 */
export function withServerSpan<T>(
  name: string,
  headers: IncomingHttpHeaders,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, headers, incomingGetter);
  return context.with(parent, () =>
    tracer().startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, (span) => settle(span, work)),
  );
}

/** Runs `work` in a client span (a call to a platform), a child of the active span. */
export function withClientSpan<T>(
  name: string,
  attributes: Record<string, string>,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, (span) =>
    settle(span, () => work(span)),
  );
}

/** Marks a span failed with a code (never a message: it may name a customer). */
export function markSpanFailed(span: Span, code: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

async function settle<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      // The error's code, not its message: messages may name a customer or carry an upstream body.
      message: (error as { code?: string; details?: { code?: string } }).details?.code ?? 'error',
    });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * A span's W3C trace context as stored with a record (an event in the log, a webhook message in
 * the outbox), so work done later, in another job or process, joins the same trace.
 */
export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string | undefined;
}

/** The active span's context to store; undefined when tracing is off or no span is active. */
export function storedTraceContext(): StoredTraceContext | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const traceparent = carrier['traceparent'];
  if (!traceparent) return undefined;
  return carrier['tracestate'] ? { traceparent, tracestate: carrier['tracestate'] } : { traceparent };
}

/**
 * Runs `work` in a span continuing a stored trace context (none stored: a trace of its own), as
 * a consumer of the record (the event processor) or a client (a delivery attempt).
 */
export function withStoredSpan<T>(
  name: string,
  stored: StoredTraceContext | undefined,
  kind: 'consumer' | 'client',
  attributes: Record<string, string | number>,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = stored
    ? propagation.extract(ROOT_CONTEXT, stored as unknown as Record<string, string>)
    : ROOT_CONTEXT;
  return context.with(parent, () =>
    tracer().startActiveSpan(
      name,
      { kind: kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.CLIENT, attributes },
      (span) => settle(span, () => work(span)),
    ),
  );
}

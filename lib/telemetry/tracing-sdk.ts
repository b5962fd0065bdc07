import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { onTracingStarted } from './tracing.js';

/**
 * The OpenTelemetry SDK side of `tracing.ts`, in a module of its own so that only a process that
 * traces loads it (`startTracingFromEnv` imports it when an OTLP endpoint is set; tests import it
 * to trace into memory).
 */

/** Registers the process's tracer provider, exporting through `processor` (tests: the in-memory one). */
export function startTracing(options: { serviceName: string; processor: SpanProcessor }): void {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [options.processor],
  });
  // Sets the global tracer provider, W3C trace-context propagator and AsyncLocalStorage context.
  provider.register();
  onTracingStarted(() => provider.shutdown());
}

/** Tracing to an OTLP/HTTP collector, batched. */
export function startOtlpTracing(serviceName: string, url: string): void {
  startTracing({ serviceName, processor: new BatchSpanProcessor(new OTLPTraceExporter({ url })) });
}

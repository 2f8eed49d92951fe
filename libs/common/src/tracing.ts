import type { Attributes } from '@opentelemetry/api';

export interface Tracing {
  /** Exports the spans still buffered, then stops tracing. */
  shutdown(): Promise<void>;
}

/** `/path?query` → `/path`: search terms and other query values stay out of spans. */
function withoutQuery(path: string): string {
  return path.replace(/\?.*$/s, '');
}

/**
 * OpenTelemetry tracing of HTTP (the api's requests, and its calls to the object store) and
 * PostgreSQL, exported over OTLP/HTTP, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the SDK reads its other standard `OTEL_*`
 * variables itself. Unset: nothing of OpenTelemetry is loaded. Must run before `pg` and the
 * HTTP framework are loaded, so each process imports it first. Spans never carry headers
 * (tokens, cookies), bodies (document content), SQL parameters, or query strings.
 */
export function startTracing(env: NodeJS.ProcessEnv, serviceName: string): Tracing | null {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return null;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when configured */
  const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  // Constructed instrumentations enable themselves and use the provider registered above.
  new HttpInstrumentation({
    // Attributes returned here override the computed ones; undefined drops them.
    startIncomingSpanHook: () => ({ 'url.query': undefined }) as unknown as Attributes,
    startOutgoingSpanHook: (request) => ({ 'url.full': undefined, 'url.path': withoutQuery(request.path ?? '/') }) as unknown as Attributes,
  });
  new PgInstrumentation({ enhancedDatabaseReporting: false });
  return { shutdown: () => provider.shutdown() };
}

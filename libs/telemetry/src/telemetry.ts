import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';

let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry Node SDK for a service process. Exporters come from the standard
 * OTEL_* variables (for example OTEL_TRACES_EXPORTER=otlp and OTEL_EXPORTER_OTLP_ENDPOINT);
 * with none set, spans are created and propagated but not exported.
 */
export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  process.env['OTEL_TRACES_EXPORTER'] ??= 'none';
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  sdk = new NodeSDK({
    serviceName,
    textMapPropagator: new W3CTraceContextPropagator(),
    contextManager: new AsyncLocalStorageContextManager(),
  });
  sdk.start();
}

export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}

/** In-process tracing that records every finished span, for tests that follow a trace. */
export class RecordedTraces {
  private readonly exporter = new InMemorySpanExporter();
  private readonly provider: BasicTracerProvider;
  private readonly contextManager = new AsyncLocalStorageContextManager();

  constructor(serviceName = 'rollgate-test') {
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName }),
      spanProcessors: [new SimpleSpanProcessor(this.exporter)],
    });
    this.contextManager.enable();
    context.setGlobalContextManager(this.contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(this.provider);
  }

  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  }
}

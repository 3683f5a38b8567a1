import { afterEach, describe, expect, it } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { startTracing, tracer } from './tracing.js';

describe(startTracing.name, () => {
  const saved = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];

  afterEach(() => {
    if (saved === undefined) delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    else process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = saved;
    trace.disable();
  });

  it('is a no-op without an endpoint: spans are not recorded', async () => {
    delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    const tracing = startTracing({ service: 'svc', version: '1.0.0' });
    const span = tracer('test').startSpan('work');
    expect(span.isRecording()).toBe(false);
    span.end();
    await tracing.shutdown();
  });

  it('records spans when an endpoint is configured', async () => {
    const tracing = startTracing({ service: 'svc', version: '1.0.0', endpoint: 'http://127.0.0.1:4318/' });
    const span = tracer('test').startSpan('work');
    expect(span.isRecording()).toBe(true);
    await tracing.shutdown();
  });
});

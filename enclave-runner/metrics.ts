import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The runner's Prometheus metrics, in a registry of its own (several runners share a test process). */
export interface RunnerMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  /** guard: input | output; layer: the guardian layer that fired (or "none"); verdict: allowed, flagged, blocked, refused, redacted. */
  readonly guardDecisions: Counter<'guard' | 'layer' | 'verdict'>;
  /** Seconds each start-up step took, by outcome (ok, failed). */
  readonly startupSteps: Gauge<'step' | 'outcome'>;
  /** 1 while serving. */
  readonly ready: Gauge;
  /** kind: prompt | completion. */
  readonly tokens: Counter<'kind'>;
}

export function createRunnerMetrics(): RunnerMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({ name: 'zt4ai_runner_http_requests_total', help: 'HTTP requests by route template, method and status', labelNames: ['route', 'method', 'status'] as const, registers }),
    httpDuration: new Histogram({
      name: 'zt4ai_runner_http_request_duration_seconds',
      help: 'HTTP request latency (streams: until the last byte) by route template',
      labelNames: ['route'] as const,
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 120],
      registers,
    }),
    guardDecisions: new Counter({ name: 'zt4ai_runner_guardian_decisions_total', help: 'Guardian decisions by guard, layer and verdict', labelNames: ['guard', 'layer', 'verdict'] as const, registers }),
    startupSteps: new Gauge({ name: 'zt4ai_runner_startup_step_seconds', help: 'Duration of each start-up step, by outcome', labelNames: ['step', 'outcome'] as const, registers }),
    ready: new Gauge({ name: 'zt4ai_runner_ready', help: '1 while the runner serves, else 0', registers }),
    tokens: new Counter({ name: 'zt4ai_runner_tokens_total', help: 'Tokens processed, by kind (prompt, completion)', labelNames: ['kind'] as const, registers }),
  };
}

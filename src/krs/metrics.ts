import { Counter, Histogram, Registry } from 'prom-client';

/** The KRS's Prometheus metrics, in a registry of their own so several apps (tests) never collide. */
export interface KrsMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  /** outcome: issued | rejected; reason: the error code, or "ok". */
  readonly decisions: Counter<'outcome' | 'reason'>;
  readonly challenges: Counter;
  /** outcome: allowed | denied; reason: the zt4ai error code, or "ok". Never key names or claims. */
  readonly releaseDecisions: Counter<'outcome' | 'reason'>;
  /** Refused administrator, release-caller and auditor credentials, by error code. */
  readonly authFailures: Counter<'reason'>;
}

export function createMetrics(): KrsMetrics {
  const registry = new Registry();
  return {
    registry,
    httpRequests: new Counter({
      name: 'krs_http_requests_total',
      help: 'HTTP requests by route template, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'krs_http_request_duration_seconds',
      help: 'HTTP request latency by route template and method',
      labelNames: ['route', 'method'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'krs_attestation_decisions_total',
      help: 'Attestation decisions by outcome (issued, rejected) and reason code',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    challenges: new Counter({ name: 'krs_challenges_issued_total', help: 'Challenge nonces issued', registers: [registry] }),
    releaseDecisions: new Counter({
      name: 'krs_release_decisions_total',
      help: 'Key release decisions by outcome (allowed, denied) and reason code',
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'krs_auth_failures_total',
      help: 'Refused bearer credentials on the key, release and audit APIs, by reason code',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

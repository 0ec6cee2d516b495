import fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ApiKeyConfig, LimitsConfig } from '../config/types.js';
import type { RunnerMetrics } from '../metrics.js';
import type { RunnerAttestation } from './attestation.js';
import { ApiKeys } from './auth.js';
import { frameworkError, openAiError, sendError } from './openai-errors.js';
import { openAiRoutes } from './openai-routes.js';
import type { Serving } from './pipeline.js';
import type { RunnerStatus } from './status.js';

/** What the HTTP server is built from. */
export interface RunnerAppOptions {
  readonly limits: LimitsConfig;
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly metrics: RunnerMetrics;
  readonly logger: Logger;
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  readonly status: () => RunnerStatus;
  /** The evidence and token the runner attested with; null until the attestation service issued the token. */
  readonly attestation?: () => RunnerAttestation | null;
  readonly serving: () => Serving | { readonly notServing: string };
}

/**
 * The runner's HTTP server: operations endpoints that answer from the first moment (`/healthz`, `/readyz`
 * 503 until serving, `/status` with every start-up step, `/attestation` with the evidence and token once
 * attested, `/metrics`) and the OpenAI-compatible API, which
 * answers 503 until the model is verified, unsealed and loaded.
 */
export async function buildRunnerApp(o: RunnerAppOptions): Promise<FastifyInstance> {
  const app = fastify({
    ...(o.https ? { https: { cert: o.https.cert, key: o.https.key } } : {}),
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.limits.bodyLimitBytes,
    // Stopping the runner ends open streams at once: their backend is about to be closed.
    forceCloseConnections: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: false } },
  } as Parameters<typeof fastify>[0]) as unknown as FastifyInstance;
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const { status, body } = frameworkError(error);
    if (status === 500) o.logger.error({ err: error }, 'internal error');
    return sendError(reply, status, body);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, openAiError(`no ${request.method} route here`, 'invalid_request_error', 'not_found')));
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    o.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    o.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    if (route.startsWith('/v1/')) o.logger.info({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const s = o.status();
    const ready = s.state === 'serving';
    return reply.code(ready ? 200 : 503).header('cache-control', 'no-store').send({ status: ready ? 'ready' : s.state, ...(s.failure ? { failure: s.failure } : {}) });
  });
  app.get('/status', async (_request, reply) => reply.header('cache-control', 'no-store').send(o.status()));
  app.get('/attestation', async (_request, reply) => {
    const a = o.attestation?.() ?? null;
    if (!a) return sendError(reply, 503, openAiError('the runner has not attested yet; see GET /status', 'server_error', 'zt4ai_not_attested'));
    return reply.header('cache-control', 'no-store').send(a);
  });
  app.get('/metrics', async (_request, reply) => reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()));
  await app.register(openAiRoutes, { limits: o.limits, apiKeys: new ApiKeys(o.apiKeys), serving: o.serving });
  return app;
}

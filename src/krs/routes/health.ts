import type { FastifyInstance } from 'fastify';
import type { KrsMetrics } from '../metrics.js';
import { errorResponses } from './schemas.js';

export interface OperationsRouteOptions {
  readonly metrics: KrsMetrics;
}

/** GET /healthz, GET /metrics (Prometheus text) and GET /openapi.json (generated from the route schemas). */
export async function operationsRoutes(app: FastifyInstance, options: OperationsRouteOptions): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the service is up and can answer',
        response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } }, ...errorResponses },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
    void reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

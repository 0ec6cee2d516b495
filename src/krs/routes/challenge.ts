import type { FastifyInstance } from 'fastify';
import type { KrsMetrics } from '../metrics.js';
import type { ChallengeService } from '../nonce.js';
import { errorResponses } from './schemas.js';

export interface ChallengeRouteOptions {
  readonly challenges: ChallengeService;
  readonly metrics: KrsMetrics;
  readonly rateLimit: { max: number; timeWindow: number } | null;
}

/** POST /attest/challenge -> {nonce, expiresAt}: a stateless, MACed, expiring nonce for the runtime data. */
export async function challengeRoutes(app: FastifyInstance, options: ChallengeRouteOptions): Promise<void> {
  app.post(
    '/attest/challenge',
    {
      schema: {
        summary: 'Get a fresh nonce; put it in the runtime-data JSON as "nonce" to get x-zt4ai-fresh: true',
        response: {
          200: {
            type: 'object',
            required: ['nonce', 'expiresAt'],
            properties: { nonce: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
          },
          ...errorResponses,
        },
      },
      config: options.rateLimit ? { rateLimit: options.rateLimit } : {},
    },
    async (_request, reply) => {
      const challenge = options.challenges.issue();
      options.metrics.challenges.inc();
      void reply.header('cache-control', 'no-store');
      return { nonce: challenge.nonce, expiresAt: challenge.expiresAt.toISOString() };
    },
  );
}

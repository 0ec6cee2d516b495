import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiVersionOf, principalOf } from '../key-api.js';
import type { ReleaseService } from '../release-service.js';
import { noteRequest } from '../request-notes.js';
import { type ReleaseBody, nameParams, releaseBody, versionParams } from './key-schemas.js';

export interface ReleaseRouteOptions {
  readonly service: ReleaseService;
  /** Route-level @fastify/rate-limit settings, or null when rate limiting is off. */
  readonly rateLimit: { max: number; timeWindow: number } | null;
}

type Req = FastifyRequest<{ Params: { name: string; version?: string }; Body: ReleaseBody; Querystring: { 'api-version': string } }>;

/**
 * Key Vault's Secure Key Release: `POST /keys/{name}[/{version}]/release` with `{target, nonce?, enc?}`,
 * answered `{value: JWS}`. The caller needs the keys.release role (Key Vault: Crypto Service Release User);
 * the target decides whether the key is released.
 */
export async function releaseRoutes(app: FastifyInstance, options: ReleaseRouteOptions): Promise<void> {
  const config = { krsRole: 'keys.release', keyVaultApi: true, ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}) } as const;
  const schema = { summary: "Release a key wrapped to the attested TEE's key (Key Vault's {value: JWS})", body: releaseBody };
  const handler = async (request: Req, reply: FastifyReply): Promise<{ value: string }> => {
    const { target, nonce, enc } = request.body;
    const out = await options.service.release({
      name: request.params.name,
      ...(request.params.version === undefined ? {} : { version: request.params.version }),
      apiVersion: apiVersionOf(request),
      target,
      ...(nonce === undefined ? {} : { nonce }),
      ...(enc === undefined ? {} : { enc }),
      actor: principalOf(request).subject,
    });
    noteRequest(request, { outcome: 'issued' });
    void reply.header('cache-control', 'no-store');
    return out;
  };
  app.post('/keys/:name/release', { schema: { ...schema, params: nameParams }, config }, handler);
  app.post('/keys/:name/:version/release', { schema: { ...schema, params: versionParams }, config }, handler);
}

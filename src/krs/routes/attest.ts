import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AttestRequestBody } from '../attest-request.js';
import type { Attester } from '../audited-attestation.js';
import { API_VERSIONS } from '../config.js';
import { KrsError } from '../errors.js';
import { noteRequest } from '../request-notes.js';
import { apiVersionQuerySchema, attestBodySchema, errorResponses, tokenResponseSchema } from './schemas.js';

export interface AttestRouteOptions {
  readonly service: Attester<AttestRequestBody>;
  /** Route-level @fastify/rate-limit settings, or null when rate limiting is off. */
  readonly rateLimit: { max: number; timeWindow: number } | null;
}

type AttestRequest = FastifyRequest<{ Body: AttestRequestBody; Querystring: { 'api-version'?: string }; Params: { attestationType?: string } }>;

/**
 * POST /attest/SevSnpVm?api-version=… (MAA's request and response). The type segment is matched without
 * case (the Azure sidecar sends "SevSnpVM"); other attestation types answer ERR_ATTESTATION_TYPE_UNSUPPORTED.
 */
export async function attestRoutes(app: FastifyInstance, options: AttestRouteOptions): Promise<void> {
  const schema = {
    summary: 'Attest SEV-SNP evidence (MAA-compatible) and receive a signed attestation token',
    querystring: apiVersionQuerySchema,
    body: attestBodySchema,
    response: { 200: tokenResponseSchema, ...errorResponses },
  };
  const config = { krsDecision: true, ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}) };
  const handler = async (request: AttestRequest, reply: FastifyReply): Promise<{ token: string }> => {
    const outcome = await options.service.attest(request.body);
    noteRequest(request, { outcome: 'issued', kid: outcome.kid, simulated: outcome.simulated, fresh: outcome.fresh });
    void reply.header('cache-control', 'no-store');
    return { token: outcome.token };
  };
  app.post('/attest/SevSnpVm', { schema, config, preValidation: checkTypeAndVersion }, handler);
  app.post('/attest/:attestationType', { schema: { ...schema, hide: true }, config, preValidation: checkTypeAndVersion }, handler);
}

/** Runs before body validation, so a wrong URL is reported as such rather than as a body problem. */
async function checkTypeAndVersion(request: AttestRequest): Promise<void> {
  const type = request.params.attestationType;
  if (type !== undefined && type.toLowerCase() !== 'sevsnpvm') {
    throw new KrsError('ERR_ATTESTATION_TYPE_UNSUPPORTED', `attestation type "${type.slice(0, 32)}" is not supported; use /attest/SevSnpVm`);
  }
  const version = request.query['api-version'];
  if (version === undefined || !(API_VERSIONS as readonly string[]).includes(version)) {
    throw new KrsError('ERR_API_VERSION_UNSUPPORTED', `api-version ${version === undefined ? 'is missing' : 'is not supported'}; use one of ${API_VERSIONS.join(', ')}`);
  }
}

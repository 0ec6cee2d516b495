import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Attester } from '../audited-attestation.js';
import type { AzureCvmRequestBody } from '../azure-cvm-service.js';
import { noteRequest } from '../request-notes.js';
import { checkApiVersion } from './api-version.js';
import { apiVersionQuerySchema, azureCvmBodySchema, errorResponses, tokenResponseSchema } from './schemas.js';

export interface AzureCvmRouteOptions {
  readonly service: Attester<AzureCvmRequestBody>;
  readonly rateLimit: { max: number; timeWindow: number } | null;
}

type CvmRequest = FastifyRequest<{ Body: AzureCvmRequestBody; Querystring: { 'api-version'?: string } }>;

/**
 * POST /attest/AzureCvm?api-version=…: zt4ai's own route for Azure confidential-VM evidence (HCL report,
 * certificates, TPM quote, PCRs, challenge, runtime data), answering `{token}` like /attest/SevSnpVm. MAA's
 * AzureGuest flow (an encrypted token for the vTPM) is not reproduced.
 */
export async function attestAzureCvmRoutes(app: FastifyInstance, options: AzureCvmRouteOptions): Promise<void> {
  const schema = {
    summary: 'Attest Azure confidential-VM evidence (HCL report and TPM quote) and receive a signed attestation token',
    querystring: apiVersionQuerySchema,
    body: azureCvmBodySchema,
    response: { 200: tokenResponseSchema, ...errorResponses },
  };
  const config = { krsDecision: true, ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}) };
  app.post('/attest/AzureCvm', { schema, config, preValidation: checkApiVersion }, async (request: CvmRequest, reply: FastifyReply) => {
    const outcome = await options.service.attest(request.body);
    noteRequest(request, { outcome: 'issued', kid: outcome.kid, simulated: outcome.simulated, fresh: outcome.fresh });
    void reply.header('cache-control', 'no-store');
    return { token: outcome.token };
  });
}

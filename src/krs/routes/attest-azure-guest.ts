import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Attester } from '../audited-attestation.js';
import type { AzureGuestOutcome, AzureGuestRequestBody } from '../azure-guest-service.js';
import { noteRequest } from '../request-notes.js';
import { checkApiVersion } from './api-version.js';
import { apiVersionQuerySchema, azureGuestBodySchema, errorResponses, guestTokenResponseSchema } from './schemas.js';

export interface AzureGuestRouteOptions {
  readonly service: Attester<AzureGuestRequestBody, AzureGuestOutcome>;
  readonly rateLimit: { max: number; timeWindow: number } | null;
  /** The service's bodyLimitBytes: this route takes at least GUEST_BODY_LIMIT. */
  readonly bodyLimit: number;
}

/**
 * AttestationInfo carries the VM's TCG event log, base64 twice over (about 1.8 bytes per log byte); a real
 * UEFI log with its db/dbx events is tens of KiB, more than the default 64 KiB of the other routes.
 * parseAttestationInfo caps the decoded document at 4 MiB.
 */
export const GUEST_BODY_LIMIT = 8 * 1024 * 1024;

type GuestRequest = FastifyRequest<{ Body: AzureGuestRequestBody; Querystring: { 'api-version'?: string } }>;

/**
 * POST /attest/AzureGuest?api-version=2020-10-01: MAA's confidential-VM route. The answer is `{token}` where
 * token is MAA's envelope (the JWT encrypted to the vTPM's certified ephemeral key), so Microsoft's guest
 * attestation library and the zt4ai runner read it the same way from MAA and from this KRS.
 */
export async function attestAzureGuestRoutes(app: FastifyInstance, options: AzureGuestRouteOptions): Promise<void> {
  const schema = {
    summary: 'Attest an Azure confidential VM the way MAA does (AzureGuest) and receive the token encrypted to its vTPM',
    querystring: apiVersionQuerySchema,
    body: azureGuestBodySchema,
    response: { 200: guestTokenResponseSchema, ...errorResponses },
  };
  const config = { krsDecision: true, ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}) };
  app.post('/attest/AzureGuest', { schema, config, bodyLimit: Math.max(options.bodyLimit, GUEST_BODY_LIMIT), preValidation: checkApiVersion }, async (request: GuestRequest, reply: FastifyReply) => {
    const outcome = await options.service.attest(request.body);
    noteRequest(request, { outcome: 'issued', kid: outcome.kid, simulated: outcome.simulated, fresh: outcome.fresh });
    void reply.header('cache-control', 'no-store');
    return { token: outcome.envelope };
  });
}

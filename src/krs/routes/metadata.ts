import type { FastifyInstance } from 'fastify';
import { type SigningKeyStore, toPublishedJwk } from '../signing-keys.js';
import { errorResponses } from './schemas.js';

export interface MetadataRouteOptions {
  readonly signingKeys: SigningKeyStore;
  readonly issuer: () => string;
}

/** Claim names a token may carry (README "Token claims"); advertised in the OIDC metadata. */
export const CLAIMS_SUPPORTED = [
  'iss', 'iat', 'nbf', 'exp', 'jti', 'nonce', 'x-ms-ver', 'x-ms-attestation-type', 'x-ms-runtime', 'x-ms-inittime',
  'x-ms-sevsnpvm-authorkeydigest', 'x-ms-sevsnpvm-bootloader-svn', 'x-ms-sevsnpvm-familyId', 'x-ms-sevsnpvm-guestsvn',
  'x-ms-sevsnpvm-hostdata', 'x-ms-sevsnpvm-idkeydigest', 'x-ms-sevsnpvm-imageId', 'x-ms-sevsnpvm-is-debuggable',
  'x-ms-sevsnpvm-launchmeasurement', 'x-ms-sevsnpvm-microcode-svn', 'x-ms-sevsnpvm-migration-allowed',
  'x-ms-sevsnpvm-reportdata', 'x-ms-sevsnpvm-reportid', 'x-ms-sevsnpvm-smt-allowed', 'x-ms-sevsnpvm-snpfw-svn',
  'x-ms-sevsnpvm-tee-svn', 'x-ms-sevsnpvm-vmpl',
  'x-zt4ai-fresh', 'x-zt4ai-simulated', 'x-zt4ai-warnings', 'x-zt4ai-runtime-data', 'x-zt4ai-inittime-data',
  'x-zt4ai-product', 'x-zt4ai-signer', 'x-zt4ai-report-version', 'x-zt4ai-chip-id', 'x-zt4ai-fw-version',
  'x-zt4ai-committed-fw-version', 'x-zt4ai-reported-tcb', 'x-zt4ai-current-tcb', 'x-zt4ai-committed-tcb',
  'x-zt4ai-launch-tcb', 'x-zt4ai-guest-policy', 'x-zt4ai-platform-info', 'x-zt4ai-cpuid', 'x-zt4ai-vlek-csp-id',
] as const;

const jwkSchema = {
  type: 'object',
  required: ['kid', 'kty', 'alg', 'use', 'n', 'e', 'x5c'],
  properties: {
    kid: { type: 'string' },
    kty: { type: 'string' },
    alg: { type: 'string' },
    use: { type: 'string' },
    n: { type: 'string' },
    e: { type: 'string' },
    x5c: { type: 'array', items: { type: 'string' }, description: 'standard base64 DER, self-signed' },
  },
} as const;

/** GET /.well-known/openid-configuration and GET /certs, as MAA serves them (azure-protocols.md §1.4). */
export async function metadataRoutes(app: FastifyInstance, options: MetadataRouteOptions): Promise<void> {
  app.get(
    '/.well-known/openid-configuration',
    {
      schema: {
        summary: 'OpenID Connect discovery metadata: issuer and jwks_uri',
        response: {
          200: {
            type: 'object',
            required: ['issuer', 'jwks_uri', 'id_token_signing_alg_values_supported', 'response_types_supported', 'claims_supported'],
            properties: {
              issuer: { type: 'string' },
              jwks_uri: { type: 'string' },
              id_token_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
              response_types_supported: { type: 'array', items: { type: 'string' } },
              claims_supported: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const issuer = options.issuer();
      return {
        issuer,
        jwks_uri: `${issuer}/certs`,
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['token', 'none'],
        claims_supported: [...CLAIMS_SUPPORTED],
      };
    },
  );
  app.get(
    '/certs',
    {
      schema: {
        summary: 'The token-signing keys (JWKS): the active key and rotated-out keys still in their overlap',
        response: { 200: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: jwkSchema } } }, ...errorResponses },
      },
    },
    async (_request, reply) => {
      // Short caching: a rotation must reach verifiers well within the overlap window.
      void reply.header('cache-control', 'public, max-age=60');
      return { keys: (await options.signingKeys.published()).map(toPublishedJwk) };
    },
  );
}

import type { FastifyInstance } from 'fastify';
import { errorResponses } from './schemas.js';

export interface PublicKeyRouteOptions {
  /** The release signer's chain, leaf then CA (PEM). */
  readonly releaseChainPem: string;
  /** The release CA's certificate alone (PEM): what a runner adds to its trusted roots. */
  readonly releaseCaPem: string;
  /** The audit checkpoint public key (SPKI PEM). */
  readonly checkpointPublicKeyPem: string;
}

const pem = { 200: { type: 'string', description: 'PEM' }, ...errorResponses } as const;

/**
 * Public keys anyone may fetch: `GET /release-signer`, the chain that signs release responses, and
 * `GET /release-signer/ca`, its CA certificate (runners trust it as a root, or pin it); and `GET /audit/checkpoint-key`, the key that
 * signs audit checkpoints. Fetching them from the service they vouch for is trust on first use: pin them.
 */
export async function publicKeyRoutes(app: FastifyInstance, options: PublicKeyRouteOptions): Promise<void> {
  app.get('/release-signer', { schema: { summary: 'Release-signing certificate chain (leaf, then the KRS release CA), PEM', produces: ['application/x-pem-file'], response: pem } }, async (_request, reply) => {
    void reply.type('application/x-pem-file').header('cache-control', 'public, max-age=300');
    return options.releaseChainPem;
  });
  app.get('/release-signer/ca', { schema: { summary: 'The KRS release CA certificate (PEM): trust it as a root in runners', produces: ['application/x-pem-file'], response: pem } }, async (_request, reply) => {
    void reply.type('application/x-pem-file').header('cache-control', 'public, max-age=300');
    return options.releaseCaPem;
  });
  app.get('/audit/checkpoint-key', { schema: { summary: 'Public key of the audit checkpoint signer (SPKI PEM)', produces: ['application/x-pem-file'], response: pem } }, async (_request, reply) => {
    void reply.type('application/x-pem-file').header('cache-control', 'public, max-age=300');
    return options.checkpointPublicKeyPem;
  });
}

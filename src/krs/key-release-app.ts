import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AdminAuthenticator } from './admin-auth.js';
import type { AuditWriter } from './audit-writer.js';
import type { KrsConfig } from './config.js';
import { authenticatedApi } from './key-api.js';
import type { KeyReleaseDeps } from './key-release-compose.js';
import type { KrsMetrics } from './metrics.js';
import { ReleaseService } from './release-service.js';
import { auditRoutes } from './routes/audit.js';
import { deletedKeyRoutes } from './routes/deleted-keys.js';
import { keyRoutes } from './routes/keys.js';
import { publicKeyRoutes } from './routes/public-keys.js';
import { releaseRoutes } from './routes/release.js';
import type { SigningKeyStore } from './signing-keys.js';
import { TargetVerifier } from './trusted-issuers.js';

export interface KeyReleaseAppOptions {
  readonly deps: KeyReleaseDeps;
  readonly config: KrsConfig;
  readonly audit: AuditWriter;
  readonly signingKeys: SigningKeyStore;
  /** The KRS issuer: key identifiers' vault URL, the target issuer it trusts first, the default challenge authority. */
  readonly issuer: () => string;
  readonly clock: () => Date;
  readonly metrics: KrsMetrics;
  readonly logger: Logger;
  readonly rateLimit: { max: number; timeWindow: number } | null;
}

/**
 * Adds the key API (Key Vault's paths), release, the audit API and the public keys to the app, and closes
 * the store at shutdown after draining pending audit entries and signing a final checkpoint.
 */
export async function registerKeyRelease(app: FastifyInstance, o: KeyReleaseAppOptions): Promise<void> {
  const { deps, config } = o;
  const jwt = config.adminAuth.jwt;
  const auth = new AdminAuthenticator({
    ...(deps.adminToken ? { staticToken: deps.adminToken } : {}),
    ...(jwt && deps.adminJwtKeys ? { jwt: { issuer: jwt.issuer, audience: jwt.audience, getKey: deps.adminJwtKeys, rolesClaim: jwt.rolesClaim, ...(jwt.principals ? { principals: jwt.principals } : {}), clock: o.clock } } : {}),
    resource: config.adminAuth.resource,
    authority: () => config.adminAuth.authority ?? jwt?.issuer ?? o.issuer(),
  });
  const verifier = new TargetVerifier({ ownIssuer: o.issuer, signingKeys: o.signingKeys, trusted: config.trustedIssuers, clock: o.clock });
  const release = new ReleaseService({
    keystore: deps.keystore,
    verifier,
    signer: deps.release.signer,
    audit: o.audit,
    baseUrl: o.issuer,
    metrics: o.metrics,
    denialDetails: config.denialDetails,
    logger: o.logger,
  });
  await app.register(publicKeyRoutes, { releaseChainPem: deps.release.chainPem, releaseCaPem: deps.release.caCertificatePem, checkpointPublicKeyPem: deps.checkpoint.publicKeyPem });
  await app.register(async (api) => {
    authenticatedApi(api, { auth, metrics: o.metrics });
    await api.register(keyRoutes, { keystore: deps.keystore, baseUrl: o.issuer });
    await api.register(deletedKeyRoutes, { keystore: deps.keystore, baseUrl: o.issuer });
    await api.register(releaseRoutes, { service: release, rateLimit: o.rateLimit });
    await api.register(auditRoutes, { audit: deps.auditLog });
  });
  app.addHook('onClose', async () => {
    try {
      await o.audit.drain();
      await deps.auditLog.checkpoint();
    } catch (err) {
      o.logger.error({ err }, 'final audit checkpoint failed');
    } finally {
      deps.store.close();
    }
  });
}

import type { X509Certificate } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { EndorsementFetcher } from '../../attestation/snp/endorsements.js';
import type { TrustStore } from '../../attestation/snp/trust.js';
import { AttestService, type AttestServiceDeps } from './attest-service.js';
import { AuditWriter } from './audit-writer.js';
import { AZURE_CVM_AUDIT, AZURE_GUEST_AUDIT, SEV_SNP_AUDIT, auditedAttester } from './audited-attestation.js';
import { AzureCvmService, type AzureCvmServiceDeps } from './azure-cvm-service.js';
import { AzureGuestService } from './azure-guest-service.js';
import { BASE64URL_PATTERN } from './base64url.js';
import type { KrsConfig } from './config.js';
import { KrsError } from './errors.js';
import { toKrsError } from './http-errors.js';
import { registerKeyRelease } from './key-release-app.js';
import type { KeyReleaseDeps } from './key-release-compose.js';
import { createLogger } from './logging.js';
import { type KrsMetrics, createMetrics } from './metrics.js';
import type { ChallengeService } from './nonce.js';
import { noteRequest, requestNote } from './request-notes.js';
import { attestRoutes } from './routes/attest.js';
import { attestAzureCvmRoutes } from './routes/attest-azure-cvm.js';
import { attestAzureGuestRoutes } from './routes/attest-azure-guest.js';
import { challengeRoutes } from './routes/challenge.js';
import { operationsRoutes } from './routes/health.js';
import { metadataRoutes } from './routes/metadata.js';
import { cloudErrorSchema } from './routes/schemas.js';
import type { SigningKeyStore } from './signing-keys.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route makes attestation decisions: count them in krs_attestation_decisions_total. */
    krsDecision?: boolean;
  }
}

/** Everything the app needs, built by the composition root (compose.ts) or by a test. */
export interface KrsAppDeps {
  readonly config: KrsConfig;
  readonly signingKeys: SigningKeyStore;
  readonly challenges: ChallengeService;
  /** Trusted anchors: AMD's, plus simulated ones only when config.trustSimulator is on. */
  readonly trust: TrustStore;
  /** Untrusted simulated anchors, for the ERR_SIMULATED_NOT_TRUSTED diagnosis only. */
  readonly simulatedAnchors?: TrustStore;
  /** AMD KDS (or a cache/fake) for evidence without a VCEK; only when config.kds.enabled. */
  readonly endorsements?: EndorsementFetcher;
  /** Issuers a vTPM's AK certificate may have (azureCvm.akCertAnchorsFile), for AzureGuest evidence. */
  readonly akCertAnchors?: readonly X509Certificate[];
  /** The token issuer; a function when it is known only after listen (port 0). */
  readonly issuer: string | (() => string);
  /** Verification and token time; tests pin it. */
  readonly clock?: () => Date;
  /** Default: a silent logger. */
  readonly logger?: Logger;
  /** PEM certificate and key: the app then speaks HTTPS when a server listens on it. */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** Default: a fresh registry per app. */
  readonly metrics?: KrsMetrics;
  /** Keystore, audit log, release signer, administrator credentials: the key, release and audit APIs. */
  readonly keyRelease?: KeyReleaseDeps;
}

/**
 * The KRS app: attestation, and with `keyRelease` the key API, release and audit API; routes, schemas, error
 * catalogue, metrics, logs. It never listens by itself; closing it closes the keystore.
 */
export async function buildApp(deps: KrsAppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const issuer = typeof deps.issuer === 'string' ? () => deps.issuer as string : deps.issuer;
  const metrics = deps.metrics ?? createMetrics();
  const logger = deps.logger ?? createLogger({ level: 'silent' });
  const app = fastify({
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false, formats: { base64url: BASE64URL_PATTERN } } },
    // fastify types its instance by server kind (http or https); nothing here depends on which.
  } as Parameters<typeof fastify>[0]) as unknown as FastifyInstance;
  // Only JSON bodies: anything else is a 415, not a string the schema then rejects with a vaguer error.
  app.removeContentTypeParser('text/plain');
  app.addSchema(cloudErrorSchema);
  installObservability(app, metrics);
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new KrsError('ERR_NOT_FOUND', `no ${request.method} route here`), request, reply));
  await app.register(swagger, {
    openapi: { info: { title: 'zt4ai key-release service', version: '0.1.0', description: "MAA-compatible SEV-SNP attestation, Azure confidential-VM evidence; Key Vault-compatible keys, Secure Key Release and an audit API" } },
  });
  if (config.rateLimit) await app.register(rateLimit, { global: false, errorResponseBuilder: () => new KrsError('ERR_RATE_LIMITED') });
  const limit = config.rateLimit ? { max: config.rateLimit.max, timeWindow: config.rateLimit.timeWindowSeconds * 1000 } : null;
  const attestDeps: AttestServiceDeps = {
    trust: deps.trust,
    ...(deps.simulatedAnchors ? { simulatedAnchors: deps.simulatedAnchors } : {}),
    ...(deps.endorsements ? { endorsements: deps.endorsements } : {}),
    challenges: deps.challenges,
    signingKeys: deps.signingKeys,
    issuer,
    tokenLifetimeSeconds: config.tokenLifetimeSeconds,
    requireFreshness: config.requireFreshness,
    clock,
  };
  const audit = deps.keyRelease ? new AuditWriter(deps.keyRelease.store.audit, clock) : null;
  const plain = new AttestService(attestDeps);
  const service = audit ? auditedAttester(plain, SEV_SNP_AUDIT, audit, logger) : plain;
  await app.register(attestRoutes, { service, rateLimit: limit });
  const { requireFreshness: _always, ...cvmBase } = attestDeps;
  const cvmDeps: AzureCvmServiceDeps = { ...cvmBase, complianceStatus: config.azureCvm.complianceStatus };
  const plainCvm = new AzureCvmService(cvmDeps);
  const cvmService = audit ? auditedAttester(plainCvm, AZURE_CVM_AUDIT, audit, logger) : plainCvm;
  await app.register(attestAzureCvmRoutes, { service: cvmService, rateLimit: limit });
  const plainGuest = new AzureGuestService({ ...cvmDeps, ...(deps.akCertAnchors ? { akCertAnchors: deps.akCertAnchors } : {}) });
  const guestService = audit ? auditedAttester(plainGuest, AZURE_GUEST_AUDIT, audit, logger) : plainGuest;
  await app.register(attestAzureGuestRoutes, { service: guestService, rateLimit: limit, bodyLimit: config.bodyLimitBytes });
  await app.register(challengeRoutes, { challenges: deps.challenges, metrics, rateLimit: limit });
  await app.register(metadataRoutes, { signingKeys: deps.signingKeys, issuer });
  await app.register(operationsRoutes, { metrics });
  if (deps.keyRelease && audit) {
    const keyRelease = { deps: deps.keyRelease, config, audit, signingKeys: deps.signingKeys, issuer, clock, metrics, logger, rateLimit: limit };
    await registerKeyRelease(app, keyRelease);
  }
  return app;
}

function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const krs = toKrsError(error);
  noteRequest(request, { outcome: 'rejected', code: krs.code, detailCodes: krs.details.map((d) => d.code) });
  if (krs.code === 'ERR_INTERNAL') request.log.error({ err: error }, 'internal error');
  return reply.code(krs.statusCode).header('cache-control', 'no-store').send(krs.toBody());
}

/** One summary log line and the HTTP metrics per request, from the route template (bounded label values). */
function installObservability(app: FastifyInstance, metrics: KrsMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc({ route, method, status: String(status) });
    metrics.httpDuration.observe({ route, method }, seconds);
    const note = requestNote(request);
    if (request.routeOptions.config?.krsDecision) {
      metrics.decisions.inc(status === 200 ? { outcome: 'issued', reason: 'ok' } : { outcome: 'rejected', reason: note.code ?? `HTTP_${status}` });
    }
    request.log.info({ method, route, status, latencyMs: Math.round(seconds * 1000 * 10) / 10, ...note }, 'request');
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminAuthenticator, Principal, Role } from './admin-auth.js';
import { KEY_API_VERSIONS } from './config-keys.js';
import { KrsError } from './errors.js';
import { keyVaultReply } from './key-vault-reply.js';
import type { KrsMetrics } from './metrics.js';
import { noteRequest } from './request-notes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a route needs; every route of the authenticated API names one. */
    krsRole?: Role;
    /** The route is Key Vault's: it takes `api-version` (KEY_API_VERSIONS). */
    keyVaultApi?: boolean;
  }
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The caller the onRequest hook authenticated (routes run only after it did). */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (!p) throw new KrsError('ERR_AUTH_MISSING');
  return p;
}

/** The api-version a Key Vault route was called with (checked by the preValidation hook). */
export function apiVersionOf(request: FastifyRequest): string {
  return (request.query as { 'api-version'?: string })['api-version']!;
}

export interface AuthenticatedApiOptions {
  readonly auth: AdminAuthenticator;
  readonly metrics: KrsMetrics;
}

/**
 * Makes `api` (an encapsulated fastify context) the authenticated API: Key Vault's bearer challenge before
 * the body is even read (the SDK's first request has no body and no token), the route's role, Key Vault's
 * api-version, and errors in Key Vault's shape.
 */
export function authenticatedApi(api: FastifyInstance, options: AuthenticatedApiOptions): void {
  const { auth, metrics } = options;
  api.setErrorHandler((error, request, reply) => sendKeyVaultError(error, request, reply, auth));
  // Bodyless POSTs (rotate, recover) may still say application/json: an empty body is no body, not bad JSON.
  const json = api.getDefaultJsonParser('error', 'error');
  api.removeContentTypeParser('application/json');
  api.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => (body.length === 0 ? done(null, undefined) : json(request, body.toString(), done)));
  api.addHook('onRequest', async (request) => {
    const role = request.routeOptions.config?.krsRole;
    // A route without a role is a programming error: refuse rather than serve it unauthenticated.
    if (!role) throw new KrsError('ERR_INTERNAL', 'route without a role');
    try {
      const principal = await auth.authenticate(request.headers.authorization);
      if (!principal.roles.has(role)) throw new KrsError('ERR_AUTH_ROLE', `this operation needs the ${role} role`);
      principals.set(request, principal);
    } catch (e) {
      if (e instanceof KrsError) metrics.authFailures.inc({ reason: e.code });
      throw e;
    }
  });
  api.addHook('preValidation', async (request) => {
    if (!request.routeOptions.config?.keyVaultApi) return;
    const version = (request.query as { 'api-version'?: unknown })['api-version'];
    if (typeof version !== 'string' || !(KEY_API_VERSIONS as readonly string[]).includes(version)) {
      throw new KrsError('ERR_KEYS_API_VERSION', `api-version ${typeof version === 'string' ? `"${version.slice(0, 20)}" is not supported` : 'is missing'}; use one of ${KEY_API_VERSIONS.join(', ')}`);
    }
  });
}

function sendKeyVaultError(error: unknown, request: FastifyRequest, reply: FastifyReply, auth: AdminAuthenticator): FastifyReply {
  const { status, body } = keyVaultReply(error);
  noteRequest(request, { outcome: 'rejected', code: body.error.zt4aiCode, detailCodes: (body.error.details ?? []).map((d) => d.code) });
  if (status >= 500) request.log.error({ err: error }, 'key API error');
  if (status === 401) void reply.header('www-authenticate', auth.challenge());
  // The code also travels as a header: the Azure SDK keeps only code, message and innererror of the body.
  void reply.header('x-zt4ai-error-code', body.error.zt4aiCode);
  return reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(JSON.stringify(body));
}

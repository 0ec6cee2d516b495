import { type KeyObject, createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT, exportJWK } from 'jose';
import { serveOnLoopback } from './loopback-server.js';

/**
 * A managed identity the simulated IMDS hands tokens out for. Entra ID issues app-only v1 tokens to managed
 * identities: `oid`/`sub` the identity's service principal, `appid` its client id, `xms_mirid` its ARM id,
 * and `roles` only when app roles of the token's resource were assigned to the identity.
 */
export interface SimulatedIdentity {
  readonly clientId: string;
  /** The service principal's object id (default: a fresh UUID). */
  readonly objectId?: string;
  /** The ARM resource id (`xms_mirid`, `msi_res_id`); default a user-assigned identity id named after the client id. */
  readonly resourceId?: string;
  /** App roles the token carries as `roles` (for every resource: the simulator has one app). Default none. */
  readonly roles?: readonly string[];
}

/** The simulated VCEK chain IMDS serves at /metadata/THIM/amd/certification, as Azure's THIM does. */
export interface SimulatedThim {
  /** DER of the VCEK, the ASK and the ARK. */
  readonly vcek: Uint8Array;
  readonly ask: Uint8Array;
  readonly ark: Uint8Array;
  /** The 8 bytes of REPORTED_TCB (report offset 0x180) the VCEK was derived for: THIM's `tcbm`. */
  readonly reportedTcb: Uint8Array;
}

export interface SimulatedImdsOptions {
  /** The identities attached to the VM. A request without client_id gets the only one; none: every token request is 400. */
  readonly identities?: readonly SimulatedIdentity[];
  /** Default: a fresh UUID. The issuer is `<url>/<tenantId>/`, as Entra's v1 `https://sts.windows.net/<tenant>/`. */
  readonly tenantId?: string;
  /** Access-token lifetime. Default 86399 s (what IMDS hands out for managed identities). */
  readonly tokenLifetimeSeconds?: number;
  readonly thim?: SimulatedThim;
  readonly clock?: () => Date;
}

/** One request as the server saw it: never the token, only what a test needs to check the client's behaviour. */
export interface ImdsRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly metadataHeader: boolean;
  readonly resource: string | null;
  readonly clientId: string | null;
}

export interface SimulatedImds {
  /** Base URL (`http://127.0.0.1:<port>`): what `AZURE_POD_IDENTITY_AUTHORITY_HOST` names for @azure/identity. */
  readonly url: string;
  /** The tokens' `iss`, with Entra's trailing "/"; OpenID metadata at `<issuer>.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly tenantId: string;
  /** The JWKS URL the OpenID metadata names. */
  readonly jwksUri: string;
  /** Every request served, in order. */
  readonly requests: readonly ImdsRequest[];
  close(): Promise<void>;
}

const TOKEN_PATH = '/metadata/identity/oauth2/token';
const THIM_PATH = '/metadata/THIM/amd/certification';

/**
 * A SIMULATED Azure Instance Metadata Service on 127.0.0.1: managed-identity tokens
 * (`GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…[&client_id=…]`, header
 * `Metadata: true` required, else 400 as IMDS answers) signed by its own RSA key, the OpenID metadata and
 * JWKS of its issuer (which in Azure live at login.microsoftonline.com, not in IMDS), and THIM's VCEK chain.
 * Point `@azure/identity` at it with `AZURE_POD_IDENTITY_AUTHORITY_HOST=<url>`, the SDK's documented override
 * of the IMDS host. Its tokens are trusted by nothing but a service configured with its issuer.
 */
export async function startSimulatedImds(options: SimulatedImdsOptions): Promise<SimulatedImds> {
  const tenantId = options.tenantId ?? randomUUID();
  const identities = (options.identities ?? []).map((i) => ({
    clientId: i.clientId,
    objectId: i.objectId ?? randomUUID(),
    resourceId: i.resourceId ?? `/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/zt4ai-sim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.clientId}`,
    roles: i.roles ?? [],
  }));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 27);
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  const clock = options.clock ?? (() => new Date());
  const lifetime = options.tokenLifetimeSeconds ?? 86_399;
  const requests: ImdsRequest[] = [];
  const state = { url: '' };
  const issuer = () => `${state.url}/${tenantId}/`;
  const jwksUri = () => `${state.url}/common/discovery/keys`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://imds');
    const path = u.pathname.replace(/\/+$/, '') || '/';
    const metadataHeader = String(req.headers.metadata ?? '').toLowerCase() === 'true';
    const record = (status: number) =>
      requests.push({ method: req.method ?? 'GET', path: u.pathname, status, metadataHeader, resource: u.searchParams.get('resource'), clientId: u.searchParams.get('client_id') });
    const send = (status: number, body: unknown) => {
      record(status);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'invalid_request', error_description: 'only GET is supported' });
    if (path === `/${tenantId}/.well-known/openid-configuration`) {
      return send(200, { issuer: issuer(), jwks_uri: jwksUri(), token_endpoint: `${state.url}/${tenantId}/oauth2/token`, id_token_signing_alg_values_supported: ['RS256'], response_types_supported: ['code', 'id_token', 'token'], subject_types_supported: ['pairwise'] });
    }
    if (path === '/common/discovery/keys') return send(200, { keys: [jwk] });
    if (path === TOKEN_PATH || path === THIM_PATH) {
      // IMDS refuses any request without the Metadata header: it is what keeps SSRF through a proxy out.
      if (!metadataHeader) return send(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
      if (path === THIM_PATH) {
        if (!options.thim) return send(404, { error: 'not_found', error_description: 'no THIM certificates for this VM' });
        return send(200, thimJson(options.thim));
      }
      if (u.searchParams.get('api-version') === null) return send(400, { error: 'invalid_request', error_description: "Required query variable 'api-version' is missing" });
      const resource = u.searchParams.get('resource');
      if (!resource) return send(400, { error: 'invalid_request', error_description: 'Required audience parameter not specified' });
      const wanted = { clientId: u.searchParams.get('client_id'), objectId: u.searchParams.get('object_id'), resourceId: u.searchParams.get('msi_res_id') ?? u.searchParams.get('mi_res_id') };
      const named = wanted.clientId ?? wanted.objectId ?? wanted.resourceId;
      const identity = named === null ? (identities.length === 1 ? identities[0] : undefined) : identities.find((i) => i.clientId === wanted.clientId || i.objectId === wanted.objectId || i.resourceId === wanted.resourceId);
      if (!identity) {
        const why = named === null && identities.length > 1 ? 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request' : 'Identity not found';
        return send(400, { error: 'invalid_request', error_description: why });
      }
      const now = Math.floor(clock().getTime() / 1000);
      const token = await signToken(privateKey, kid, issuer(), tenantId, identity, resource, now, lifetime);
      return send(200, {
        access_token: token,
        client_id: identity.clientId,
        expires_in: String(lifetime),
        expires_on: String(now + lifetime),
        ext_expires_in: String(lifetime),
        not_before: String(now),
        resource,
        token_type: 'Bearer',
      });
    }
    return send(404, { error: 'not_found', error_description: `no such IMDS endpoint: ${u.pathname.slice(0, 100)}` });
  };

  const server = await serveOnLoopback(handle);
  state.url = server.url;
  return { url: state.url, issuer: issuer(), tenantId, jwksUri: jwksUri(), requests, close: server.close };
}

/** An app-only v1 access token as Entra ID issues one to a managed identity (claims of a real one, values simulated). */
function signToken(key: KeyObject, kid: string, issuer: string, tenantId: string, identity: Required<SimulatedIdentity>, resource: string, now: number, lifetime: number): Promise<string> {
  return new SignJWT({
    aio: randomBytes(24).toString('base64url'),
    appid: identity.clientId,
    appidacr: '2',
    idp: issuer,
    oid: identity.objectId,
    rh: randomBytes(12).toString('base64url'),
    ...(identity.roles.length > 0 ? { roles: [...identity.roles] } : {}),
    tid: tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '1.0',
    xms_mirid: identity.resourceId,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, x5t: kid })
    .setIssuer(issuer)
    .setAudience(resource)
    .setSubject(identity.objectId)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + lifetime)
    .sign(key);
}

/** THIM's answer: the VCEK and ASK+ARK as PEM, `tcbm` the REPORTED_TCB as a big-endian u64 in hex. */
function thimJson(t: SimulatedThim): Record<string, string> {
  if (t.reportedTcb.length !== 8) throw new Error('reportedTcb must be the 8 bytes of REPORTED_TCB');
  return {
    vcekCert: pem(t.vcek),
    tcbm: Buffer.from(t.reportedTcb).reverse().toString('hex').toUpperCase(),
    certificateChain: pem(t.ask) + pem(t.ark),
    cacheControl: '86400',
  };
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** THIM certificates for a simulated extended report (the firmware's VCEK, ASK, ARK and its REPORTED_TCB). */
export function thimFor(extended: { readonly report: Uint8Array; readonly endorsement: Uint8Array; readonly intermediate: Uint8Array; readonly ark: Uint8Array }): SimulatedThim {
  return { vcek: extended.endorsement, ask: extended.intermediate, ark: extended.ark, reportedTcb: extended.report.subarray(0x180, 0x188) };
}

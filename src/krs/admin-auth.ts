import { createHash, timingSafeEqual } from 'node:crypto';
import { type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import { KrsError } from './errors.js';

/** zt4ai's roles: key administration, key release (Key Vault's Crypto Service Release User), audit reading. */
export const ROLES = ['keys.admin', 'keys.release', 'audit.read'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated caller. `subject` is what the audit log records as the actor. */
export interface Principal {
  readonly subject: string;
  readonly roles: ReadonlySet<Role>;
}

/** Validates administrators' JWTs: issuer, audience, lifetime, signature; roles from one claim. */
export interface JwtAdminOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly getKey: JWTVerifyGetKey;
  readonly rolesClaim: string;
  /**
   * Roles granted to named identities of the issuer, by the token's `oid` (Entra ID's object id of the caller's
   * service principal). A managed identity gets app roles in its tokens only through an app registration's role
   * assignment; this maps one identity explicitly instead. Added to the roles of `rolesClaim`.
   */
  readonly principals?: readonly JwtPrincipalGrant[];
  readonly clock?: () => Date;
}

/** Roles for one caller of the JWT issuer, named by its object id (`oid`, compared case-insensitively). */
export interface JwtPrincipalGrant {
  readonly oid: string;
  readonly roles: readonly Role[];
}

export interface AdminAuthOptions {
  /** The static administrator token (trimmed file content); its holder has every role. */
  readonly staticToken?: Buffer;
  readonly jwt?: JwtAdminOptions;
  /** Challenge parameters (see `challenge`). */
  readonly resource: string;
  readonly authority: () => string;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'ES256', 'ES384', 'EdDSA'];
const ALL_ROLES: ReadonlySet<Role> = new Set(ROLES);

/**
 * Bearer authentication the way Key Vault does it, so `@azure/keyvault-keys` and `@azure/identity` work
 * unchanged: a request without a token gets 401 with `WWW-Authenticate: Bearer authorization="…",
 * resource="…"`; the client then asks its credential for `<resource>/.default` and retries. A token is
 * either the static administrator token (compared in constant time) or a JWT of the configured issuer.
 */
export class AdminAuthenticator {
  readonly #staticDigest: Buffer | null;
  readonly #options: AdminAuthOptions;

  constructor(options: AdminAuthOptions) {
    this.#options = options;
    this.#staticDigest = options.staticToken ? sha256(options.staticToken) : null;
  }

  /**
   * The WWW-Authenticate value, exactly as the SDK's parser reads it (keyvault-common parseWWWAuthenticate:
   * pairs split on ", ", values quoted; the tenant is the authorization URL's path).
   */
  challenge(): string {
    return `Bearer authorization="${this.#options.authority()}", resource="${this.#options.resource}"`;
  }

  /** The caller behind an Authorization header. Throws ERR_AUTH_MISSING or ERR_AUTH_INVALID (401). */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization?.trim() ?? '');
    if (!m) throw new KrsError('ERR_AUTH_MISSING');
    const token = m[1]!;
    if (this.#staticDigest && timingSafeEqual(sha256(Buffer.from(token, 'utf8')), this.#staticDigest)) return { subject: 'admin-token', roles: ALL_ROLES };
    if (this.#options.jwt) return verifyAdminJwt(token, this.#options.jwt);
    throw new KrsError('ERR_AUTH_INVALID');
  }
}

/** Hashing first makes the comparison constant-time whatever the lengths. */
function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

async function verifyAdminJwt(token: string, o: JwtAdminOptions): Promise<Principal> {
  let payload: JWTPayload;
  try {
    // Entra ID's v1 tokens (managed identities' included) end their issuer in "/"; the configured one does not.
    ({ payload } = await jwtVerify(token, o.getKey, { issuer: [o.issuer, `${o.issuer}/`], audience: o.audience, algorithms: ALGORITHMS, requiredClaims: ['exp'], clockTolerance: 30, ...(o.clock ? { currentDate: o.clock() } : {}) }));
  } catch (e) {
    if (e instanceof KrsError) throw e;
    const why = e instanceof joseErrors.JWTExpired ? 'the token has expired' : e instanceof joseErrors.JWTClaimValidationFailed ? `its ${e.claim} claim is not accepted` : 'it is not a valid token of the configured issuer';
    throw new KrsError('ERR_AUTH_INVALID', `bearer token refused: ${why}`, { cause: e });
  }
  const roles = new Set(rolesOf(payload[o.rolesClaim]));
  const oid = typeof payload.oid === 'string' ? payload.oid.toLowerCase() : null;
  // Only the oid claim names the caller: `sub` is the same value in Entra's app-only tokens, but other issuers
  // put user-controlled names there.
  for (const grant of oid ? (o.principals ?? []) : []) if (grant.oid.toLowerCase() === oid) for (const r of grant.roles) roles.add(r);
  return { subject: subjectOf(payload), roles };
}

/** Entra ID's object id first (stable per identity), then `sub`; bounded for the audit log. */
function subjectOf(payload: JWTPayload): string {
  const id = typeof payload.oid === 'string' ? payload.oid : typeof payload.sub === 'string' ? payload.sub : 'unknown';
  return `jwt:${id}`.slice(0, 200);
}

/** A list of role names, or one space-separated string (as `scp` is); unknown names are ignored. */
function rolesOf(value: unknown): ReadonlySet<Role> {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(' ') : [];
  return new Set(names.filter((n): n is Role => typeof n === 'string' && (ROLES as readonly string[]).includes(n)));
}

import { isIP } from 'node:net';
import { ROLES, type Role } from './admin-auth.js';
import { bad, bool, integer, objectSetting, onlyKeys, optionalPath, text } from './config-values.js';

/** api-versions accepted on the key API: Key Vault's with release support (@azure/keyvault-keys 4.10.2 sends 2025-07-01). */
export const KEY_API_VERSIONS = ['7.3', '7.4', '7.5', '7.6', '2025-07-01'] as const;

/** Where the key-encryption key comes from. Null: `<dataDir>/kek.key`, generated on first start. */
export type KekConfig = { readonly file: string } | { readonly env: string } | { readonly azureKeyId: string } | null;

/** Administrators' tokens validated against an OpenID issuer (Entra ID, Keycloak, a test issuer). */
export interface AdminJwtConfig {
  readonly issuer: string;
  /** Default: adminAuth.resource. */
  readonly audience: string;
  /** A JWKS file (offline); null: OIDC discovery at `<issuer>/.well-known/openid-configuration`. */
  readonly jwksFile: string | null;
  /** The claim holding zt4ai role names. Default "roles". */
  readonly rolesClaim: string;
  /** Roles granted to named callers by their `oid` claim (e.g. a managed identity's principal id). Absent: none. */
  readonly principals?: readonly { readonly oid: string; readonly roles: readonly Role[] }[];
}

/** How administrators, release callers and auditors authenticate (Key Vault's bearer challenge). */
export interface AdminAuthConfig {
  /** A file whose trimmed content is a bearer token with every role (self-hosted setups). */
  readonly tokenFile: string | null;
  /** `resource` of the WWW-Authenticate challenge; clients ask their credential for `<resource>/.default`. */
  readonly resource: string;
  /** `authorization` of the challenge. Null: the JWT issuer when configured, else the KRS issuer. */
  readonly authority: string | null;
  readonly jwt: AdminJwtConfig | null;
}

/** An attestation service whose tokens may be release targets, besides this KRS's own. */
export interface TrustedIssuerConfig {
  /** Must equal the tokens' `iss` (one trailing "/" ignored). https, or http on loopback only. */
  readonly issuer: string;
  /** How long OpenID metadata and JWKS are cached. Default 3600 s. */
  readonly cacheSeconds: number;
}

/** The settings of key administration, release and the audit log. */
export interface KeyReleaseConfig {
  readonly kek: KekConfig;
  readonly adminAuth: AdminAuthConfig;
  readonly trustedIssuers: readonly TrustedIssuerConfig[];
  /** List every failing policy clause in a 403 (the audit log always has them). Default true. */
  readonly denialDetails: boolean;
  /** Sign an audit checkpoint every this many entries (and at shutdown). Default 100. */
  readonly auditCheckpointEvery: number;
}

export const KEY_RELEASE_DEFAULTS = {
  kek: null,
  adminAuth: null,
  trustedIssuers: [],
  denialDetails: true,
  auditCheckpointEvery: 100,
} as const satisfies Record<keyof KeyReleaseConfig, unknown>;

/** Entra ID app ID URIs look like this; any absolute URI works as long as clients and issuer agree. */
export const DEFAULT_ADMIN_RESOURCE = 'api://zt4ai-krs';

/** Validates the key-release settings of a config input. */
export function resolveKeyReleaseConfig(input: { readonly [K in keyof KeyReleaseConfig]?: unknown }, baseDir: string): KeyReleaseConfig {
  return {
    kek: kekSetting(input.kek, baseDir),
    adminAuth: adminAuthSetting(input.adminAuth, baseDir),
    trustedIssuers: trustedIssuersSetting(input.trustedIssuers),
    denialDetails: bool(input.denialDetails, 'denialDetails') ?? true,
    auditCheckpointEvery: integer(input.auditCheckpointEvery, 'auditCheckpointEvery', 1, 100_000) ?? 100,
  };
}

function kekSetting(value: unknown, baseDir: string): KekConfig {
  const v = objectSetting(value, 'kek');
  if (!v) return null;
  onlyKeys(v, 'kek', ['file', 'env', 'azureKeyId']);
  const set = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null);
  if (set.length !== 1) throw bad('kek needs exactly one of file, env and azureKeyId');
  if (v.file !== undefined) return { file: optionalPath(v.file, 'kek.file', baseDir)! };
  if (v.env !== undefined) {
    const env = text(v.env, 'kek.env')!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) throw bad('kek.env must be an environment variable name');
    return { env };
  }
  const id = text(v.azureKeyId, 'kek.azureKeyId')!;
  if (!/^https:\/\/[^/?#]+\/keys\/[0-9A-Za-z-]{1,127}(\/[0-9A-Za-z]{1,64})?\/?$/.test(id)) throw bad('kek.azureKeyId must be a Key Vault key identifier https://<vault>/keys/<name>[/<version>]');
  return { azureKeyId: id };
}

function adminAuthSetting(value: unknown, baseDir: string): AdminAuthConfig {
  const v = objectSetting(value, 'adminAuth') ?? {};
  onlyKeys(v, 'adminAuth', ['tokenFile', 'resource', 'authority', 'jwt']);
  const resource = v.resource === undefined || v.resource === null ? DEFAULT_ADMIN_RESOURCE : absoluteUri(v.resource, 'adminAuth.resource');
  return {
    tokenFile: optionalPath(v.tokenFile, 'adminAuth.tokenFile', baseDir),
    resource,
    authority: v.authority === undefined || v.authority === null ? null : httpUrl(v.authority, 'adminAuth.authority', false),
    jwt: jwtSetting(v.jwt, resource, baseDir),
  };
}

function jwtSetting(value: unknown, resource: string, baseDir: string): AdminJwtConfig | null {
  const v = objectSetting(value, 'adminAuth.jwt');
  if (!v) return null;
  onlyKeys(v, 'adminAuth.jwt', ['issuer', 'audience', 'jwksFile', 'rolesClaim', 'principals']);
  return {
    issuer: httpUrl(v.issuer, 'adminAuth.jwt.issuer', true),
    audience: text(v.audience, 'adminAuth.jwt.audience') ?? resource,
    jwksFile: optionalPath(v.jwksFile, 'adminAuth.jwt.jwksFile', baseDir),
    rolesClaim: text(v.rolesClaim, 'adminAuth.jwt.rolesClaim') ?? 'roles',
    ...(v.principals === undefined || v.principals === null ? {} : { principals: principalsSetting(v.principals) }),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `[{oid, roles}]`: an object id (UUID, as Entra ID's `oid`) and a non-empty list of zt4ai role names. */
function principalsSetting(value: unknown): NonNullable<AdminJwtConfig['principals']> {
  if (!Array.isArray(value)) throw bad('adminAuth.jwt.principals must be a list of {"oid": "<object id>", "roles": ["keys.release"]}');
  const seen = new Set<string>();
  return value.map((entry, i) => {
    const name = `adminAuth.jwt.principals[${i}]`;
    const v = objectSetting(entry, name);
    if (!v) throw bad(`${name} must be an object {"oid": "<object id>", "roles": [...]}`);
    onlyKeys(v, name, ['oid', 'roles']);
    const oid = text(v.oid, `${name}.oid`);
    if (oid === undefined || !UUID.test(oid)) throw bad(`${name}.oid must be an object id (a UUID, the token's oid claim; for a managed identity its principal id)`);
    if (seen.has(oid.toLowerCase())) throw bad(`${name}.oid repeats an earlier entry`);
    seen.add(oid.toLowerCase());
    const roles = v.roles;
    if (!Array.isArray(roles) || roles.length === 0) throw bad(`${name}.roles must be a non-empty list of ${ROLES.join(', ')}`);
    for (const r of roles) if (typeof r !== 'string' || !(ROLES as readonly string[]).includes(r)) throw bad(`${name}.roles: "${String(r).slice(0, 40)}" is not one of ${ROLES.join(', ')}`);
    return { oid: oid.toLowerCase(), roles: [...new Set(roles as Role[])] };
  });
}

function trustedIssuersSetting(value: unknown): TrustedIssuerConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad('trustedIssuers must be a list of issuer URLs or {issuer, cacheSeconds} objects');
  return value.map((entry, i) => {
    const name = `trustedIssuers[${i}]`;
    const v = typeof entry === 'string' ? { issuer: entry } : objectSetting(entry, name);
    if (!v) throw bad(`${name} must be an issuer URL or an object`);
    onlyKeys(v, name, ['issuer', 'cacheSeconds']);
    return { issuer: httpUrl(v.issuer, `${name}.issuer`, true), cacheSeconds: integer(v.cacheSeconds, `${name}.cacheSeconds`, 1, 7 * 86_400) ?? 3600 };
  });
}

/** An http(s) URL; plain http only on loopback when `secure`, since tokens and keys are fetched from it. */
function httpUrl(value: unknown, name: string, secure: boolean): string {
  const t = text(value, name);
  let url: URL;
  try {
    url = new URL(t ?? '');
  } catch {
    throw bad(`${name} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`${name} must be an http(s) URL`);
  if (url.username || url.password || url.search || url.hash) throw bad(`${name} must not have credentials, a query or a fragment`);
  if (secure && url.protocol === 'http:' && !loopbackHost(url.hostname)) throw bad(`${name} must be https (plain http only on loopback)`);
  return t!.replace(/\/+$/, '');
}

function absoluteUri(value: unknown, name: string): string {
  const t = text(value, name)!;
  // The SDK parses `<resource>/.default` as a URL and splits the challenge on spaces and commas.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s,"]+$/i.test(t)) throw bad(`${name} must be an absolute URI without spaces, commas or quotes (e.g. api://zt4ai-krs)`);
  return t.replace(/\/+$/, '');
}

function loopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

import { type JWTPayload, type JWTVerifyGetKey, createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { TrustedIssuerConfig } from './config-keys.js';
import { KrsError, type KrsErrorCode } from './errors.js';
import { OidcKeySource } from './oidc-keys.js';
import { type SigningKeyStore, toPublishedJwk } from './signing-keys.js';

/** A release target whose signature, issuer and lifetime were verified. */
export interface VerifiedTarget {
  /** `iss` exactly as the token says it (policies compare it with a trailing "/" ignored). */
  readonly issuer: string;
  readonly claims: JWTPayload & Record<string, unknown>;
}

export interface TargetVerifierDeps {
  /** This KRS's token issuer; resolved per call because with port 0 it is known only after listen. */
  readonly ownIssuer: () => string;
  readonly signingKeys: SigningKeyStore;
  readonly trusted: readonly TrustedIssuerConfig[];
  readonly clock: () => Date;
}

/** Attestation tokens are RS256 (MAA, this KRS); the others cover OIDC issuers some deployments trust. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'ES256', 'ES384'];
const CLOCK_TOLERANCE_SECONDS = 5;

const normalise = (iss: string): string => iss.replace(/\/+$/, '');

/**
 * Verifies release targets: tokens of this KRS (checked with its own published signing keys) and of the
 * configured trusted issuers (OpenID discovery + JWKS, cached). Any other issuer is refused before anything
 * is fetched, so a token cannot make the KRS call a URL of the caller's choosing.
 */
export class TargetVerifier {
  readonly #deps: TargetVerifierDeps;
  readonly #trusted: ReadonlyMap<string, OidcKeySource>;
  #own: { kids: string; getKey: JWTVerifyGetKey } | null = null;

  constructor(deps: TargetVerifierDeps) {
    this.#deps = deps;
    this.#trusted = new Map(deps.trusted.map((t) => [normalise(t.issuer), new OidcKeySource(t.issuer, { cacheSeconds: t.cacheSeconds })]));
  }

  async verify(token: unknown): Promise<VerifiedTarget> {
    const issuer = unverifiedIssuer(token);
    const getKey = await this.#keysOf(issuer);
    await this.#checkJku(token as string, issuer);
    try {
      const { payload } = await jwtVerify(token as string, getKey, {
        issuer,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
        currentDate: this.#deps.clock(),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      return { issuer, claims: payload as VerifiedTarget['claims'] };
    } catch (e) {
      throw fromJose(e);
    }
  }

  async #keysOf(issuer: string): Promise<JWTVerifyGetKey> {
    if (normalise(issuer) === normalise(this.#deps.ownIssuer())) return this.#ownKeys();
    const source = this.#trusted.get(normalise(issuer));
    if (!source) throw new KrsError('ERR_TARGET_UNTRUSTED_ISSUER', `the release target was issued by ${issuer.slice(0, 200)}, which is neither this KRS nor a configured trusted issuer`);
    return source.getKey;
  }

  /**
   * A `jku` header (MAA sets `<issuer>/certs`) must name the issuer's own JWKS: keys come only from the trust
   * anchor, the configured issuer, never from a URL the token names, which is compared and never fetched.
   */
  async #checkJku(token: string, issuer: string): Promise<void> {
    let jku: unknown;
    try {
      jku = decodeProtectedHeader(token).jku;
    } catch {
      throw new KrsError('ERR_TARGET_MALFORMED', 'the release target has no readable protected header');
    }
    if (jku === undefined) return;
    const own = normalise(issuer) === normalise(this.#deps.ownIssuer());
    const expected = own ? `${normalise(this.#deps.ownIssuer())}/certs` : await this.#trusted.get(normalise(issuer))!.jwksUri();
    if (typeof jku !== 'string' || !sameUrl(jku, expected)) {
      throw new KrsError('ERR_TARGET_JKU_MISMATCH', `the release target's jku header ${typeof jku === 'string' ? `"${jku.slice(0, 200)}"` : 'is not a URL and'} is not the JWKS of its issuer ${issuer.slice(0, 200)} (${expected.slice(0, 200)})`);
    }
  }

  /** The published keys (active and still-overlapping), as a JWKS rebuilt only when they change. */
  async #ownKeys(): Promise<JWTVerifyGetKey> {
    const published = await this.#deps.signingKeys.published();
    const kids = published.map((k) => k.kid).join(',');
    if (this.#own?.kids !== kids) this.#own = { kids, getKey: createLocalJWKSet({ keys: published.map(toPublishedJwk) }) };
    return this.#own.getKey;
  }
}

/** Two URLs naming the same resource (scheme and host case, default port, one trailing "/" ignored). */
function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href.replace(/\/+$/, '') === new URL(b).href.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

/** The `iss` of a token not yet verified, only to choose whose keys verify it. */
function unverifiedIssuer(token: unknown): string {
  if (typeof token !== 'string' || token.length > 64 * 1024) throw new KrsError('ERR_TARGET_MALFORMED');
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch {
    throw new KrsError('ERR_TARGET_MALFORMED', 'the release target is not a compact JWT');
  }
  if (typeof iss !== 'string' || iss.length === 0) throw new KrsError('ERR_TARGET_MALFORMED', 'the release target has no iss claim');
  return iss;
}

const JOSE_CODES: ReadonlyArray<[new (...args: never[]) => Error, KrsErrorCode]> = [
  [joseErrors.JWTExpired, 'ERR_TARGET_EXPIRED'],
  [joseErrors.JWSSignatureVerificationFailed, 'ERR_TARGET_SIGNATURE'],
  [joseErrors.JWKSNoMatchingKey, 'ERR_TARGET_SIGNATURE'],
  [joseErrors.JWKSMultipleMatchingKeys, 'ERR_TARGET_SIGNATURE'],
  [joseErrors.JOSEAlgNotAllowed, 'ERR_TARGET_SIGNATURE'],
];

/** jose's failures as target codes; the message names the check, never the token. */
function fromJose(e: unknown): KrsError {
  if (e instanceof KrsError) return e;
  for (const [type, code] of JOSE_CODES) if (e instanceof type) return new KrsError(code, undefined, { cause: e });
  if (e instanceof joseErrors.JWTClaimValidationFailed && (e.claim === 'nbf' || e.claim === 'iat')) return new KrsError('ERR_TARGET_NOT_YET_VALID', undefined, { cause: e });
  if (e instanceof joseErrors.JWTClaimValidationFailed) return new KrsError('ERR_TARGET_MALFORMED', `the release target's ${e.claim} claim is missing or invalid`, { cause: e });
  return new KrsError('ERR_TARGET_MALFORMED', undefined, { cause: e });
}

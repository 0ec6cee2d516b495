import { X509Certificate } from 'node:crypto';
import { type JSONWebKeySet, type JWK, type JWTVerifyGetKey, createLocalJWKSet, errors as joseErrors } from 'jose';
import { type Dispatcher, request } from 'undici';
import { KrsError } from './errors.js';

export interface OidcKeySourceOptions {
  /** How long fetched metadata and keys are used before being fetched again. */
  readonly cacheSeconds: number;
  /** Skip discovery and fetch this JWKS (a configured `jwksUri`). */
  readonly jwksUri?: string;
  readonly timeoutMs?: number;
  /** Tests route requests through their own dispatcher. */
  readonly dispatcher?: Dispatcher;
}

const MAX_BODY = 1024 * 1024;
/** A token with an unknown kid refetches at most this often: a forger must not turn us into a request cannon. */
const MIN_REFRESH_MS = 30_000;

/**
 * The signing keys of an OpenID issuer (a real MAA instance, Entra ID, a test issuer): discovery at
 * `<issuer>/.well-known/openid-configuration`, whose `issuer` must be the configured one, then `jwks_uri`,
 * fetched with undici and cached. MAA publishes keys as `x5c` only; n/e are taken from the certificate.
 */
export class OidcKeySource {
  readonly issuer: string;
  readonly #options: OidcKeySourceOptions;
  #keys: { getKey: JWTVerifyGetKey; fetchedAt: number } | null = null;
  #loading: Promise<JWTVerifyGetKey> | null = null;
  #discovered: { uri: Promise<string>; at: number } | null = null;

  constructor(issuer: string, options: OidcKeySourceOptions) {
    this.issuer = issuer.replace(/\/+$/, '');
    this.#options = options;
  }

  /** The JWKS URL: the configured one, else the issuer's OpenID metadata's `jwks_uri` (discovered once, then cached). */
  jwksUri(): Promise<string> {
    if (this.#options.jwksUri) return Promise.resolve(this.#options.jwksUri);
    if (this.#discovered === null || Date.now() - this.#discovered.at >= this.#options.cacheSeconds * 1000) {
      const uri = this.#discover();
      const entry = { uri, at: Date.now() };
      this.#discovered = entry;
      uri.catch(() => {
        if (this.#discovered === entry) this.#discovered = null;
      });
    }
    return this.#discovered.uri;
  }

  /** For jose's jwtVerify: the key for a token header, refetching once when its kid is unknown. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const cached = this.#keys;
    const fresh = cached !== null && Date.now() - cached.fetchedAt < this.#options.cacheSeconds * 1000;
    const getKey = fresh ? cached.getKey : await this.#load();
    try {
      return await getKey(header, token);
    } catch (e) {
      const stale = this.#keys === null || Date.now() - this.#keys.fetchedAt >= MIN_REFRESH_MS;
      if (!(e instanceof joseErrors.JWKSNoMatchingKey) || !stale) throw e;
      return (await this.#load())(header, token);
    }
  };

  /** One fetch at a time: concurrent verifications share it. */
  #load(): Promise<JWTVerifyGetKey> {
    this.#loading ??= this.#fetch().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #fetch(): Promise<JWTVerifyGetKey> {
    const jwksUri = await this.jwksUri();
    const jwks = (await this.#getJson(jwksUri, 'JWKS')) as { keys?: unknown };
    if (!Array.isArray(jwks.keys)) throw unavailable(this.issuer, 'the JWKS has no keys list');
    const keys: JSONWebKeySet = { keys: jwks.keys.flatMap((k) => withPublicNumbers(k)) };
    const getKey = createLocalJWKSet(keys);
    this.#keys = { getKey, fetchedAt: Date.now() };
    return getKey;
  }

  async #discover(): Promise<string> {
    const meta = (await this.#getJson(`${this.issuer}/.well-known/openid-configuration`, 'OpenID metadata')) as { issuer?: unknown; jwks_uri?: unknown };
    if (typeof meta.issuer !== 'string' || meta.issuer.replace(/\/+$/, '') !== this.issuer) throw unavailable(this.issuer, 'the OpenID metadata names another issuer');
    if (typeof meta.jwks_uri !== 'string') throw unavailable(this.issuer, 'the OpenID metadata has no jwks_uri');
    const uri = new URL(meta.jwks_uri, `${this.issuer}/`);
    // Keys fetched over plain http could be swapped in transit; only an http issuer (loopback, by config) may use it.
    if (uri.protocol !== 'https:' && !this.issuer.startsWith('http://')) throw unavailable(this.issuer, 'jwks_uri is not https');
    return uri.href;
  }

  async #getJson(url: string, what: string): Promise<unknown> {
    const timeout = this.#options.timeoutMs ?? 5000;
    try {
      const res = await request(url, { headersTimeout: timeout, bodyTimeout: timeout, ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}) });
      const text = await readCapped(res.body);
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      return JSON.parse(text) as unknown;
    } catch (cause) {
      if (cause instanceof KrsError) throw cause;
      throw unavailable(this.issuer, `its ${what} at ${url.slice(0, 200)} could not be fetched (${(cause as Error).message.slice(0, 80)})`, cause);
    }
  }
}

async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('the answer is larger than 1 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JWK as jose can import it: an RSA or EC key given only as `x5c` gets its public numbers from x5c[0]. */
function withPublicNumbers(value: unknown): JWK[] {
  if (value === null || typeof value !== 'object') return [];
  const jwk = value as JWK & { x5c?: unknown };
  if ((jwk.kty === 'RSA' && jwk.n !== undefined) || (jwk.kty === 'EC' && jwk.x !== undefined)) return [jwk];
  const first = Array.isArray(jwk.x5c) ? jwk.x5c[0] : undefined;
  if (typeof first !== 'string') return [];
  try {
    const pub = new X509Certificate(Buffer.from(first, 'base64')).publicKey.export({ format: 'jwk' }) as JWK;
    return [{ ...pub, ...(jwk.kid === undefined ? {} : { kid: jwk.kid }), ...(jwk.alg === undefined ? {} : { alg: jwk.alg }) }];
  } catch {
    // One unreadable key must not hide the others.
    return [];
  }
}

function unavailable(issuer: string, why: string, cause?: unknown): KrsError {
  return new KrsError('ERR_ISSUER_UNAVAILABLE', `issuer ${issuer.slice(0, 200)}: ${why}`, cause === undefined ? {} : { cause });
}

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { TokenCredential } from '@azure/identity';
import { KeyClient, type KeyClientOptions } from '@azure/keyvault-keys';
import { type OpenedRelease, openReleaseResponse } from '../../keys/release/open-response.js';
import type { ReleaseTrust } from '../../keys/release/x5c-chain.js';
import { isLoopbackHost } from '../config/values.js';
import type { KeySourceConfig } from '../config/types.js';
import { RunnerError, type RunnerReason, reasonOf } from '../errors.js';
import { errorOf } from './http.js';
import type { TeeKey } from './tee-key.js';

type Policy = NonNullable<KeyClientOptions['additionalPolicies']>[number];

/** Azure Key Vault and Managed HSM hosts: with these the SDK's own challenge-resource check stays on. */
const AZURE_VAULT = /\.(vault|managedhsm)\.(azure\.net|azure\.cn|usgovcloudapi\.net)$/i;

/**
 * The host the release signature's certificate must be valid for: an Azure vault signs releases with a
 * certificate for its own host, and trusting public roots alone would accept any certificate they issued.
 * Null for a KRS, whose release signer is its own CA's and named by the configured trust.
 */
export function releaseSignerHost(vaultUrl: string): string | null {
  const host = new URL(vaultUrl).hostname;
  return AZURE_VAULT.test(host) ? host.toLowerCase() : null;
}

/** One release: which key, with which credential, for which attested TEE, trusting which signer. */
export interface ReleaseInput {
  readonly config: KeySourceConfig;
  /** The version to release (pinned, or named by the sealed model); null: the current one. */
  readonly version: string | null;
  readonly credential: TokenCredential;
  /** The attestation token: Key Vault's release `target`. */
  readonly target: string;
  readonly tee: TeeKey;
  readonly trust: ReleaseTrust;
  readonly signal?: AbortSignal;
}

/**
 * Key Vault's Secure Key Release through Microsoft's own client (`KeyClient.releaseKey`), so the same code
 * talks to the KRS and to a real Key Vault or Managed HSM; then `openReleaseResponse` verifies the JWS and
 * its chain against `trust`, the nonce sent, that the key is wrapped to this TEE's own key, and unwraps it.
 * The caller owns `material` and must wipe it.
 */
export async function releaseModelKey(o: ReleaseInput): Promise<OpenedRelease> {
  const errorBody: { text: string | null } = { text: null };
  const client = new KeyClient(o.config.vaultUrl, o.credential, await clientOptions(o.config, errorBody));
  const nonce = randomBytes(16).toString('base64url');
  let value: string;
  try {
    ({ value } = await client.releaseKey(o.config.keyName, o.target, {
      nonce,
      algorithm: o.config.enc,
      ...(o.version === null ? {} : { version: o.version }),
      ...(o.signal ? { abortSignal: o.signal } : {}),
    }));
  } catch (e) {
    throw refusal(e, errorBody.text);
  }
  let opened: OpenedRelease;
  try {
    const host = releaseSignerHost(o.config.vaultUrl);
    opened = await openReleaseResponse(value, { teePrivateKey: o.tee.privateKey, teePublicJwk: o.tee.publicJwk, ...o.trust, expectedNonce: nonce, ...(host ? { expectedHost: host } : {}) });
  } catch (e) {
    throw new RunnerError('ERR_RUNNER_RELEASE_INVALID', `the release response was refused: ${(e as Error).message}`, { cause: e, ...withReason(reasonOf(e)) });
  }
  checkKeyName(opened, o.config.keyName, o.version);
  return opened;
}

async function clientOptions(config: KeySourceConfig, errorBody: { text: string | null }): Promise<KeyClientOptions> {
  const url = new URL(config.vaultUrl);
  const ca = config.tlsCaFile ? await readFile(config.tlsCaFile, 'utf8') : null;
  return {
    // A bearer token in clear text may only travel over loopback; the config refuses other http URLs.
    allowInsecureConnection: url.protocol === 'http:' && isLoopbackHost(url.hostname),
    disableChallengeResourceVerification: !AZURE_VAULT.test(url.hostname),
    retryOptions: { maxRetries: 2 },
    ...(ca ? { tlsOptions: { ca } } : {}),
    additionalPolicies: [{ policy: keepErrorBody(errorBody), position: 'perCall' }],
  };
}

/** The SDK drops the error body's extra fields (the KRS's zt4aiCode and failing clauses): keep the text. */
function keepErrorBody(sink: { text: string | null }): Policy['policy'] {
  return {
    name: 'zt4aiKeepErrorBody',
    sendRequest: async (request, next) => {
      const response = await next(request);
      if (response.status >= 400) sink.text = response.bodyAsText?.slice(0, 64 * 1024) ?? null;
      return response;
    },
  };
}

/** A failed release call as a runner error: auth, policy refusal, or an unreachable service. */
function refusal(e: unknown, bodyText: string | null): RunnerError {
  const status = (e as { statusCode?: unknown }).statusCode;
  let parsed: unknown = null;
  try {
    parsed = bodyText ? JSON.parse(bodyText) : null;
  } catch {
    parsed = null;
  }
  const reason: RunnerReason = errorOf(parsed) ?? { code: (e as { code?: string }).code ?? 'no_answer' };
  const says = `${reason.code}${reason.message ? `: ${reason.message}` : ''}`;
  // The SDK's RestError carries the request, Authorization header and attestation token included: keep only
  // its name and message, so that nothing printing this error's cause chain can leak a credential.
  const cause = new Error(`${(e as Error).name ?? 'Error'}: ${(e as Error).message ?? String(e)}`);
  if (typeof status !== 'number' || status >= 500) {
    return new RunnerError('ERR_RUNNER_RELEASE_UNAVAILABLE', `the key service ${typeof status === 'number' ? `answered HTTP ${status}` : `could not be reached (${says})`}`, { cause, reason });
  }
  if (status === 401 || reason.code === 'ERR_AUTH_ROLE' || reason.code === 'ForbiddenByRbac') {
    return new RunnerError('ERR_RUNNER_RELEASE_AUTH', `the key service refused the runner's credential (HTTP ${status}, ${reason.code})`, { cause, reason });
  }
  // The failing clauses travel in reason.details; Key Vault's message is worth showing only without them.
  const why = reason.details && reason.details.length > 0 ? reason.code : says;
  return new RunnerError('ERR_RUNNER_RELEASE_DENIED', `the key service refused to release the key (HTTP ${status}, ${why})`, { cause, reason });
}

/** The released key must be the configured one (the host part may differ: issuer names versus addresses). */
function checkKeyName(opened: OpenedRelease, name: string, version: string | null): void {
  let path = '';
  try {
    path = new URL(opened.kid).pathname;
  } catch {
    path = '';
  }
  const m = /\/keys\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m || m[1] !== name || (version !== null && m[2]!.toLowerCase() !== version.toLowerCase())) {
    opened.material.fill(0);
    throw new RunnerError('ERR_RUNNER_RELEASE_INVALID', `the service released ${opened.kid.slice(0, 200)}, not the key "${name}"${version ? ` version ${version}` : ''} that was asked for`);
  }
}

function withReason(reason: RunnerReason | undefined): { reason?: RunnerReason } {
  return reason ? { reason } : {};
}

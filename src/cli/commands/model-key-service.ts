import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { KeyClient, KeyReleasePolicy, KeyVaultKey } from '@azure/keyvault-keys';
import { type PolicyError, checkReleasePolicy, formatPolicyError } from '../../../attestation/policy/index.js';
import { wipe } from '../../../keys/keystore/errors.js';
import { type DataKeyWrapper, generateDataKey, rsaOaepWrapper } from '../../../keys/sealing/data-keys.js';
import { isLoopback } from '../../krs/config.js';
import { readInput } from '../inputs.js';
import { type CliIo, UsageError } from '../io.js';

/** Azure Key Vault and Managed HSM hosts: with these the SDK's own challenge-resource check stays on. */
const AZURE_VAULT = /\.(vault|managedhsm)\.(azure\.net|azure\.cn|usgovcloudapi\.net)$/i;

/** Codes of `model seal`'s key-service step (exit 1): the service refused, or its key could never be released. */
export type KeyServiceCode = 'ERR_KEY_SERVICE_REFUSED' | 'ERR_KEY_NOT_RELEASABLE';

/** A verdict of the key service on the sealing key (exit 1). Never holds key material. */
export class KeyServiceError extends Error {
  override readonly name = 'KeyServiceError';
  constructor(
    readonly code: KeyServiceCode,
    message: string,
    readonly details: { status?: number | null; keyVaultCode?: string | null; zt4aiCode?: string | null } = {},
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** Where a key service is and how to authenticate to it. */
export interface KeyServiceTarget {
  readonly url: string;
  readonly flag: '--krs' | '--akv';
  readonly keyName: string;
  readonly adminTokenFile?: string | undefined;
}

/**
 * `--krs`: a fresh 256-bit data key imported into the KRS (or a Managed HSM) as an exportable `oct-HSM` key
 * under the release policy; the model is sealed `dir` to the versioned key id. The caller wipes `dataKey`.
 */
export async function importDataKey(io: CliIo, t: KeyServiceTarget, policyFile: string): Promise<{ kid: string; dataKey: Buffer }> {
  const releasePolicy = await readPolicy(io, policyFile);
  const client = await keyClient(io, t);
  const dataKey = generateDataKey();
  let key: KeyVaultKey;
  try {
    key = await serviceCall(() => client.importKey(t.keyName, { kty: 'oct-HSM', k: dataKey }, { exportable: true, releasePolicy, hardwareProtected: true }));
  } catch (e) {
    wipe(dataKey);
    throw e;
  }
  const kid = key.id;
  if (!kid || !key.properties.version || key.properties.exportable !== true) {
    wipe(dataKey);
    throw new KeyServiceError('ERR_KEY_NOT_RELEASABLE', `the imported key ${t.keyName} came back without a version or not exportable`);
  }
  return { kid, dataKey };
}

/**
 * `--akv`: the public part of an exportable RSA key with a release policy (Key Vault, Managed HSM or a KRS);
 * the data key is wrapped to it with RSA-OAEP-256 and the versioned key id recorded. A key the runner could
 * never obtain (not exportable, no policy, disabled, not RSA) is refused before anything is sealed.
 */
export async function fetchWrapKey(io: CliIo, t: KeyServiceTarget): Promise<DataKeyWrapper> {
  const client = await keyClient(io, t);
  const key = await serviceCall(() => client.getKey(t.keyName));
  const p = key.properties;
  const why =
    key.keyType !== 'RSA' && key.keyType !== 'RSA-HSM'
      ? `is ${key.keyType ?? 'of no type'}, not RSA`
      : p.exportable !== true
        ? 'is not exportable'
        : !p.releasePolicy?.encodedPolicy
          ? 'has no release policy'
          : p.enabled === false
            ? 'is disabled'
            : !key.id || !p.version || !key.key?.n || !key.key.e
              ? 'came back without a version or public part'
              : null;
  if (why !== null) throw new KeyServiceError('ERR_KEY_NOT_RELEASABLE', `key ${t.keyName} ${why}: a runner could never obtain it by Secure Key Release`);
  const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  return rsaOaepWrapper({ kty: 'RSA', n: b64u(key.key!.n!), e: b64u(key.key!.e!) }, key.id!);
}

/** Reads and checks a release policy (zt4ai's parser) before it is sent. */
async function readPolicy(io: CliIo, file: string): Promise<KeyReleasePolicy> {
  const bytes = await readInput(io, file, 'release policy');
  const checked = checkReleasePolicy(bytes);
  if (!checked.ok) throw new UsageError('ERR_POLICY_INVALID', `--policy ${file}:\n${checked.errors.map((e: PolicyError) => `  ${formatPolicyError(e)}`).join('\n')}`);
  return { encodedPolicy: new Uint8Array(bytes), contentType: 'application/json; charset=utf-8' };
}

/** The service's answer to a refused call: exit 1 with its codes; no answer or a refused credential is exit 2. */
async function serviceCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e as { statusCode?: number; code?: string; message?: string; response?: { headers?: { get(name: string): string | undefined } } };
    const status = err.statusCode ?? null;
    const message = (err.message ?? 'request failed').split('\n')[0]!.slice(0, 500);
    if (status === null || status === 401) throw new UsageError('ERR_KEY_SERVICE', `the key service ${status === null ? 'did not answer' : 'refused the credential'}: ${message}`, { cause: e });
    const zt4aiCode = err.response?.headers?.get('x-zt4ai-error-code') ?? null;
    throw new KeyServiceError('ERR_KEY_SERVICE_REFUSED', `the key service refused (${status} ${err.code ?? ''}${zt4aiCode ? `, ${zt4aiCode}` : ''}): ${message}`, { status, keyVaultCode: err.code ?? null, zt4aiCode });
  }
}

/** KeyClient as `zt4ai keys` builds it: plain http only to loopback, a static token or DefaultAzureCredential. */
async function keyClient(io: CliIo, t: KeyServiceTarget): Promise<KeyClient> {
  let url: URL;
  try {
    url = new URL(t.url);
  } catch {
    throw new UsageError('ERR_USAGE', `${t.flag} "${t.url}" is not a URL`);
  }
  const insecure = url.protocol === 'http:';
  if (!insecure && url.protocol !== 'https:') throw new UsageError('ERR_USAGE', `${t.flag} must be an http(s) URL`);
  // A bearer token in clear text may only travel over loopback.
  if (insecure && !isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) throw new UsageError('ERR_USAGE', `${t.flag} ${t.url}: plain http only to loopback; use https`);
  const credential = t.adminTokenFile ? await staticCredential(io, t.adminTokenFile) : new (await import('@azure/identity')).DefaultAzureCredential();
  const { KeyClient } = await import('@azure/keyvault-keys');
  return new KeyClient(url.href.replace(/\/+$/, ''), credential, { allowInsecureConnection: insecure, disableChallengeResourceVerification: !AZURE_VAULT.test(url.hostname), retryOptions: { maxRetries: 1 } });
}

async function staticCredential(io: CliIo, file: string): Promise<TokenCredential> {
  const token = (
    await readFile(resolve(io.cwd, file)).catch((cause: NodeJS.ErrnoException) => {
      throw new UsageError('ERR_IO', `cannot read --admin-token-file "${file}": ${cause.code ?? 'error'}`, { cause });
    })
  )
    .toString('utf8')
    .trim();
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

import { readFile } from 'node:fs/promises';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Dispatcher } from 'undici';
import type { KeySourceConfig } from '../config/types.js';
import { RunnerError } from '../errors.js';
import type { ReleaseTrust } from '../../keys/release/x5c-chain.js';
import { call } from './http.js';

/**
 * The runner's credential for the key service: a static bearer token from a file (self-hosted KRS), or
 * Azure's managed identity (DefaultAzureCredential, or ManagedIdentityCredential for a given client id).
 * @azure/identity is loaded only when Azure is configured: it is large and the KRS path never needs it.
 */
export async function credentialFor(config: KeySourceConfig): Promise<TokenCredential> {
  const c = config.credential;
  if ('tokenFile' in c) {
    let token: string;
    try {
      token = (await readFile(c.tokenFile, 'utf8')).trim();
    } catch (cause) {
      throw new RunnerError('ERR_RUNNER_CONFIG', `cannot read keySource.tokenFile "${c.tokenFile}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
    }
    if (!/^[\x21-\x7e]{16,}$/.test(token)) throw new RunnerError('ERR_RUNNER_CONFIG', `keySource.tokenFile "${c.tokenFile}" must hold one token of at least 16 printable characters`);
    return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
  }
  return azureCredential(c.azure.managedIdentityClientId);
}

/**
 * The workload's Azure identity exactly as in production: ManagedIdentityCredential for a user-assigned
 * client id, else DefaultAzureCredential. Both reach IMDS at 169.254.169.254, or the host in
 * `AZURE_POD_IDENTITY_AUTHORITY_HOST` (the SDK's own override, which the simulated IMDS is reached by).
 */
export async function azureCredential(clientId: string | null): Promise<TokenCredential> {
  const identity = await import('@azure/identity');
  return clientId ? new identity.ManagedIdentityCredential({ clientId }) : new identity.DefaultAzureCredential();
}

/**
 * Whom release responses must chain to: a CA/root PEM bundle, pinned fingerprints, or the KRS's release
 * CA fetched from `GET /release-signer/ca` over the same (TLS-verified, or loopback) channel as the release.
 */
export async function releaseTrustFor(config: KeySourceConfig, dispatcher: Dispatcher | undefined, signal?: AbortSignal): Promise<{ trust: ReleaseTrust; source: string }> {
  const t = config.releaseSigner;
  if ('pinnedSha256' in t) return { trust: { pinnedCertificates: t.pinnedSha256 }, source: 'pinned' };
  if ('caFile' in t) {
    const pem = await readFile(t.caFile, 'utf8').catch((cause: NodeJS.ErrnoException) => {
      throw new RunnerError('ERR_RUNNER_RELEASE_TRUST', `cannot read keySource.releaseSigner.caFile "${t.caFile}": ${cause.code ?? 'error'}`, { cause });
    });
    return { trust: { trustedRoots: splitPem(pem, t.caFile) }, source: t.caFile };
  }
  const url = `${config.vaultUrl}/release-signer/ca`;
  const res = await call('GET', url, undefined, { dispatcher, signal }, 'ERR_RUNNER_RELEASE_TRUST');
  if (res.status !== 200 || typeof res.body !== 'string') throw new RunnerError('ERR_RUNNER_RELEASE_TRUST', `GET ${url} answered HTTP ${res.status}, not the release CA (PEM)`);
  return { trust: { trustedRoots: splitPem(res.body, url) }, source: url };
}

function splitPem(text: string, from: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new RunnerError('ERR_RUNNER_RELEASE_TRUST', `${from} holds no PEM certificate`);
  return blocks.map((b) => `${b}\n`);
}

import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type ReleaseCa, type ReleaseSigner, chainToPem, createReleaseCa, createReleaseSigner, loadReleaseCa, loadReleaseSigner, releaseCaToPem, releaseSignerToPem } from '../../keys/release/index.js';
import { readPrivateFile, writePrivateFileAtomic } from './data-dir.js';
import { KrsStartupError } from './errors.js';

export const RELEASE_CA_FILE = 'release-ca.pem';
export const RELEASE_SIGNER_FILE = 'release-signer.pem';

/** A leaf this close to expiry is re-issued by the CA at start-up, so runners trusting the CA never notice. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** The release signer and the CA that issued it; runners trust `caCertificatePem`. */
export interface ReleaseIdentity {
  readonly signer: ReleaseSigner;
  /** Leaf then CA, PEM: what GET /release-signer serves. */
  readonly chainPem: string;
  readonly caCertificatePem: string;
}

/**
 * Loads the release signer of a data directory, creating on first start a CA (`release-ca.pem`: ECDSA P-256
 * key and certificate, 0600) and an RSA signing key with a certificate it issued (`release-signer.pem`, 0600).
 * Both are written atomically and never overwritten by a racing replica; a leaf near expiry is re-issued.
 */
export async function openReleaseIdentity(dataDir: string, options: { hostnames: readonly string[]; logger?: Logger; now?: Date }): Promise<ReleaseIdentity> {
  try {
    const ca = await loadOrCreate(join(dataDir, RELEASE_CA_FILE), async () => pemOfCa(await createReleaseCa()), parseCa);
    const signerPath = join(dataDir, RELEASE_SIGNER_FILE);
    const issue = async (): Promise<string> => pemOfSigner(await createReleaseSigner({ hostnames: options.hostnames }, ca));
    let signer = await loadOrCreate(signerPath, issue, parseSigner);
    if (expiresSoon(signer, options.now ?? new Date())) {
      await writePrivateFileAtomic(signerPath, await issue(), 'replace');
      signer = parseSigner((await readPrivateFile(signerPath, 'ERR_RELEASE_SIGNER'))!.toString('utf8'));
      options.logger?.info({ file: signerPath }, 'release signing certificate renewed');
    }
    return { signer, chainPem: chainToPem(signer.chain), caCertificatePem: chainToPem([ca.certificate]) };
  } catch (cause) {
    if (cause instanceof KrsStartupError) throw cause;
    throw new KrsStartupError('ERR_RELEASE_SIGNER', `the release signer in "${dataDir}" cannot be used: ${(cause as Error).message}`, { cause });
  }
}

async function loadOrCreate<T>(path: string, create: () => Promise<string>, parse: (pem: string) => T): Promise<T> {
  const existing = await readPrivateFile(path, 'ERR_RELEASE_SIGNER');
  if (existing) return parse(existing.toString('utf8'));
  // 'create' loses gracefully to a replica that wrote first; everyone then loads the same file.
  await writePrivateFileAtomic(path, await create(), 'create');
  return parse((await readPrivateFile(path, 'ERR_RELEASE_SIGNER'))!.toString('utf8'));
}

function privateKeyBlock(pem: string): string {
  const m = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new Error('no PKCS#8 private key block');
  return `${m[0]}\n`;
}

function pemOfCa(ca: ReleaseCa): string {
  const p = releaseCaToPem(ca);
  return `${p.privateKeyPem}${p.certificatePem}`;
}

function parseCa(pem: string): ReleaseCa {
  return loadReleaseCa({ privateKeyPem: privateKeyBlock(pem), certificatePem: pem });
}

function pemOfSigner(signer: ReleaseSigner): string {
  const p = releaseSignerToPem(signer);
  return `${p.privateKeyPem}${p.chainPem}`;
}

function parseSigner(pem: string): ReleaseSigner {
  return loadReleaseSigner({ privateKeyPem: privateKeyBlock(pem), chainPem: pem });
}

function expiresSoon(signer: ReleaseSigner, now: Date): boolean {
  const leaf = signer.chain[0];
  return leaf === undefined || new Date(new X509Certificate(leaf).validTo).getTime() - now.getTime() < RENEW_BEFORE_MS;
}

import { type KeyObject, X509Certificate, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { KeystoreError } from '../keystore/errors.js';
import { type LeafOptions, type ReleaseCa, createSigningCertificate } from './certificates.js';

/** The KRS's release-signing identity: an RSA key and its x5c chain (DER, leaf first). */
export interface ReleaseSigner {
  readonly privateKey: KeyObject;
  readonly chain: readonly Buffer[];
  /** base64url SHA-256 of the leaf DER: the JWS `kid` and `x5t#S256`, as Key Vault sets them. */
  readonly kid: string;
}

export function x5tS256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** Checks that the key is RSA >= 2048 and matches the leaf certificate; the chain's validity is the runner's to check. */
function makeSigner(privateKey: KeyObject, chain: readonly Buffer[]): ReleaseSigner {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release signing key must be an RSA private key (RS256)');
  if ((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release signing key must have at least 2048 bits');
  const leaf = chain[0];
  if (!leaf) throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release signing chain is empty');
  let leafKey: KeyObject;
  try {
    leafKey = new X509Certificate(leaf).publicKey;
  } catch {
    throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release signing certificate cannot be parsed');
  }
  const mine = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!mine.equals(leafKey.export({ type: 'spki', format: 'der' }))) throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release signing key does not match its certificate');
  return { privateKey, chain: [...chain], kid: x5tS256(leaf) };
}

/**
 * A new release signer: an RSA key with a certificate for the KRS host names, issued by `ca` (runners trust the
 * CA certificate) or self-signed (runners pin the leaf fingerprint). Persisting it is the caller's job.
 */
export async function createReleaseSigner(options: LeafOptions = {}, ca?: ReleaseCa): Promise<ReleaseSigner> {
  const { privateKey, chain } = await createSigningCertificate(options, ca);
  return makeSigner(privateKey, chain);
}

/** PEM blocks of a DER chain. */
export function chainToPem(chain: readonly Uint8Array[]): string {
  return chain.map((der) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`).join('');
}

/** DER certificates of a PEM bundle, in order. */
export function pemToChain(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => Buffer.from(b.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64'));
}

/** The signer as PEM: the private key (PKCS#8) and the chain (leaf first), for the KRS to store privately. */
export function releaseSignerToPem(signer: ReleaseSigner): { privateKeyPem: string; chainPem: string } {
  return { privateKeyPem: signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), chainPem: chainToPem(signer.chain) };
}

/** Loads a signer saved with `releaseSignerToPem` (or any RSA key + PEM chain, leaf first). */
export function loadReleaseSigner(pem: { privateKeyPem: string; chainPem: string }): ReleaseSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.privateKeyPem);
  } catch {
    throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release signing key is not a PEM private key');
  }
  return makeSigner(key, pemToChain(pem.chainPem));
}

/** The CA as PEM, and back. */
export function releaseCaToPem(ca: ReleaseCa): { privateKeyPem: string; certificatePem: string } {
  return { privateKeyPem: ca.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificatePem: chainToPem([ca.certificate]) };
}

export function loadReleaseCa(pem: { privateKeyPem: string; certificatePem: string }): ReleaseCa {
  const [certificate] = pemToChain(pem.certificatePem);
  if (!certificate) throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release CA certificate is not PEM');
  try {
    return { privateKey: createPrivateKey(pem.privateKeyPem), certificate };
  } catch {
    throw new KeystoreError('ERR_RELEASE_SIGNER', 'the release CA key is not a PEM private key');
  }
}

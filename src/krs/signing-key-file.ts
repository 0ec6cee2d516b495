import 'reflect-metadata';
import { type KeyObject, X509Certificate, createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { KrsStartupError } from './errors.js';

/** One token-signing key with its self-signed certificate (the `x5c[0]` that /certs publishes). */
export interface SigningKey {
  /** base64url(SHA-256(certificate DER)): the RFC 7517 `x5t#S256` of x5c[0]. Opaque to verifiers. */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly certificateDer: Buffer;
  readonly createdAt: Date;
  /** Null for the active key; a rotated-out key stays in /certs until then. */
  readonly publishUntil: Date | null;
}

export const SIGNING_KEYS_FILE = 'signing-keys.json';
const FORMAT = 'zt4ai-krs-signing-keys/1';

interface StoredKey {
  kid: string;
  createdAt: string;
  publishUntil: string | null;
  certificate: string;
  privateKey: string;
}

/** A fresh RSA key (RS256, as MAA signs) and a self-signed certificate valid for ten years. */
export async function generateSigningKey(bits: number, now: Date): Promise<SigningKey> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      name: 'CN=zt4ai KRS attestation token signing',
      // Backdated an hour so a verifier with a slow clock does not see a not-yet-valid certificate.
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter,
      signingAlgorithm: algorithm,
      keys,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const certificateDer = Buffer.from(cert.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { kid: kidOf(certificateDer), privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), certificateDer, createdAt: now, publishUntil: null };
}

export function kidOf(certificateDer: Uint8Array): string {
  return createHash('sha256').update(certificateDer).digest('base64url');
}

export function serializeSigningKeys(keys: readonly SigningKey[]): string {
  const stored: StoredKey[] = keys.map((k) => ({
    kid: k.kid,
    createdAt: k.createdAt.toISOString(),
    publishUntil: k.publishUntil?.toISOString() ?? null,
    certificate: k.certificateDer.toString('base64'),
    privateKey: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }));
  return `${JSON.stringify({ format: FORMAT, keys: stored }, null, 2)}\n`;
}

/**
 * Parses the key file and checks it thoroughly: every kid matches its certificate, every private key matches
 * its certificate's public key, exactly one key is active. Anything else stops start-up: a silently
 * regenerated key would invalidate every token relying parties hold and hide tampering.
 */
export function parseSigningKeys(text: string, path: string): SigningKey[] {
  const corrupt = (why: string, cause?: unknown): KrsStartupError =>
    new KrsStartupError('ERR_SIGNING_KEYS', `signing key file "${path}" is corrupt: ${why}. Restore it from backup; delete it only if every issued token may become unverifiable`, cause === undefined ? undefined : { cause });
  let doc: { format?: unknown; keys?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (cause) {
    throw corrupt('not JSON', cause);
  }
  if (doc?.format !== FORMAT || !Array.isArray(doc.keys) || doc.keys.length === 0) throw corrupt(`expected {"format":"${FORMAT}","keys":[...]} with at least one key`);
  const keys = (doc.keys as unknown[]).map((entry, i) => {
    try {
      return parseStoredKey(entry as StoredKey);
    } catch (cause) {
      throw corrupt(`key #${i}: ${(cause as Error).message}`, cause);
    }
  });
  if (keys.filter((k) => k.publishUntil === null).length !== 1) throw corrupt('exactly one key must be active (publishUntil null)');
  return keys;
}

function parseStoredKey(s: StoredKey): SigningKey {
  if (typeof s?.certificate !== 'string' || typeof s.privateKey !== 'string' || typeof s.kid !== 'string') throw new Error('kid, certificate and privateKey must be strings');
  const certificateDer = Buffer.from(s.certificate, 'base64');
  const cert = new X509Certificate(certificateDer);
  const privateKey = createPrivateKey(s.privateKey);
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('the private key is not RSA');
  if (!cert.checkPrivateKey(privateKey)) throw new Error('the private key does not match the certificate');
  if (kidOf(certificateDer) !== s.kid) throw new Error('the kid does not match the certificate');
  const createdAt = date(s.createdAt, 'createdAt');
  const publishUntil = s.publishUntil === null ? null : date(s.publishUntil, 'publishUntil');
  return { kid: s.kid, privateKey, certificateDer, createdAt, publishUntil };
}

function date(value: unknown, name: string): Date {
  const d = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) throw new Error(`${name} is not an ISO time`);
  return d;
}

import 'reflect-metadata';
import { type KeyObject, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { KeystoreError } from '../keystore/errors.js';

type Crypto = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1];
const crypto = webcrypto as unknown as Crypto;
const RSA_SIGN = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/** A CA that issues release-signing certificates (the runner then trusts its certificate as a root). */
export interface ReleaseCa {
  readonly privateKey: KeyObject;
  readonly certificate: Buffer;
}

export interface CertificateOptions {
  /** Subject distinguished name, e.g. "CN=zt4ai KRS release signing". */
  readonly subject?: string;
  readonly now?: Date;
  readonly validityDays?: number;
}

function serial(): string {
  // Positive and non-zero in DER: a leading 0x1..0x7 nibble.
  return randomBytes(16).toString('hex').replace(/^[089a-f]/, '1');
}

function window(options: CertificateOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  // Backdated an hour so a verifier whose clock is slightly behind does not see a not-yet-valid certificate.
  return { notBefore: new Date(now.getTime() - 3_600_000), notAfter: new Date(now.getTime() + (options.validityDays ?? defaultDays) * DAY) };
}

async function toKeyObject(key: webcrypto.CryptoKey): Promise<KeyObject> {
  return createPrivateKey({ key: Buffer.from(await crypto.subtle.exportKey('pkcs8', key)), format: 'der', type: 'pkcs8' });
}

/** The CryptoKey and signature algorithm to issue certificates with a CA's private key. */
async function issuerKey(ca: ReleaseCa): Promise<{ key: webcrypto.CryptoKey; algorithm: webcrypto.EcdsaParams | typeof RSA_SIGN }> {
  const pkcs8 = ca.privateKey.export({ type: 'pkcs8', format: 'der' });
  if (ca.privateKey.asymmetricKeyType === 'rsa') return { key: await crypto.subtle.importKey('pkcs8', pkcs8, RSA_SIGN, false, ['sign']), algorithm: RSA_SIGN };
  const curve = ca.privateKey.asymmetricKeyDetails?.namedCurve;
  const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : null;
  if (ca.privateKey.asymmetricKeyType !== 'ec' || namedCurve === null) throw new KeystoreError('ERR_RELEASE_SIGNER', 'a release CA key must be RSA or ECDSA P-256/P-384');
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
  return { key, algorithm: { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' } };
}

/** A self-signed ECDSA P-256 CA certificate (ten years by default) for issuing release-signing certificates. */
export async function createReleaseCa(options: CertificateOptions = {}): Promise<ReleaseCa> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: options.subject ?? 'CN=zt4ai KRS release CA',
      ...window(options, 3650),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { privateKey: await toKeyObject(keys.privateKey), certificate: Buffer.from(cert.rawData) };
}

export interface LeafOptions extends CertificateOptions {
  /** DNS names the certificate is valid for (the KRS host names), checked by runners that pin a host. */
  readonly hostnames?: readonly string[];
  readonly bits?: 2048 | 3072 | 4096;
}

/** A fresh RSA key and its release-signing certificate, issued by `ca` or self-signed. DER chain leaf first. */
export async function createSigningCertificate(options: LeafOptions, ca?: ReleaseCa): Promise<{ privateKey: KeyObject; chain: Buffer[] }> {
  const keys = (await crypto.subtle.generateKey({ ...RSA_SIGN, publicExponent: new Uint8Array([1, 0, 1]), modulusLength: options.bits ?? 2048 }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
  ];
  if (options.hostnames && options.hostnames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(options.hostnames.map((value) => ({ type: 'dns' as const, value }))));
  const subject = options.subject ?? 'CN=zt4ai KRS release signing';
  const base = { serialNumber: serial(), ...window(options, 365), extensions };
  if (!ca) {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ ...base, name: subject, signingAlgorithm: RSA_SIGN, keys }, crypto);
    return { privateKey: await toKeyObject(keys.privateKey), chain: [Buffer.from(cert.rawData)] };
  }
  const caCert = new x509.X509Certificate(ca.certificate);
  const { key, algorithm } = await issuerKey(ca);
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto));
  const cert = await x509.X509CertificateGenerator.create({ ...base, subject, issuer: caCert.subject, publicKey: keys.publicKey, signingKey: key, signingAlgorithm: algorithm }, crypto);
  return { privateKey: await toKeyObject(keys.privateKey), chain: [Buffer.from(cert.rawData), ca.certificate] };
}

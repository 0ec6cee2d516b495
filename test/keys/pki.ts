import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as px509 from '@peculiar/x509';

px509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof px509.cryptoProvider.get>);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Issued {
  readonly pem: string;
  readonly der: Buffer;
  readonly keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM of the private key. */
  readonly privatePem: string;
}

export interface CertOptions {
  readonly subject: string;
  readonly issuer?: Issued;
  readonly ca?: boolean;
  readonly pathLen?: number;
  readonly keyUsage?: number;
  readonly codeSigning?: boolean;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

let serial = 1;

/** A P-256 certificate for tests: self-signed when no issuer is given. */
export async function issue(o: CertOptions): Promise<Issued> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const extensions: px509.Extension[] = [new px509.BasicConstraintsExtension(Boolean(o.ca), o.pathLen, true)];
  if (o.keyUsage !== undefined) extensions.push(new px509.KeyUsagesExtension(o.keyUsage, true));
  if (o.codeSigning) extensions.push(new px509.ExtendedKeyUsageExtension([px509.ExtendedKeyUsage.codeSigning]));
  extensions.push(await px509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (o.issuer) extensions.push(await px509.AuthorityKeyIdentifierExtension.create(o.issuer.keys.publicKey));
  const cert = await px509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject: `CN=${o.subject}`,
    issuer: o.issuer ? new px509.X509Certificate(o.issuer.der).subject : `CN=${o.subject}`,
    notBefore: o.notBefore ?? new Date('2025-01-01T00:00:00Z'),
    notAfter: o.notAfter ?? new Date('2035-01-01T00:00:00Z'),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: (o.issuer ?? { keys }).keys.privateKey,
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privatePem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { pem: cert.toString('pem'), der: Buffer.from(cert.rawData), keys, privatePem };
}

export const KU = px509.KeyUsageFlags;

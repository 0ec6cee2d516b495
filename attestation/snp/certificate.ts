import { X509Certificate, createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';
import { AttestationError } from '../errors.js';

/** A parsed certificate: node:crypto for signatures and validity, the ASN.1 view for what node does not expose. */
export interface ParsedCertificate {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly sha256: string;
  readonly subjectCN: string | null;
  readonly issuerCN: string | null;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithm: string;
  /** OID -> extnValue contents. Duplicate OIDs are refused at parse time. */
  readonly extensions: ReadonlyMap<string, Buffer>;
}

export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_CN = '2.5.4.3';
const MAX_CERT_BYTES = 64 * 1024;
const cache = new Map<string, ParsedCertificate>();
const CACHE_LIMIT = 512;

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (der.length === 0 || der.length > MAX_CERT_BYTES) {
    throw new AttestationError('ERR_CERT_PARSE', `certificate is ${der.length} bytes; expected 1..${MAX_CERT_BYTES}`);
  }
  const sha256 = createHash('sha256').update(der).digest('hex');
  const hit = cache.get(sha256);
  if (hit) return hit;
  const parsed = parseUncached(Buffer.from(der), sha256);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(sha256, parsed);
  return parsed;
}

function parseUncached(der: Buffer, sha256: string): ParsedCertificate {
  let x509: X509Certificate;
  let asn: Certificate;
  try {
    x509 = new X509Certificate(der);
    asn = AsnConvert.parse(der, Certificate);
  } catch (cause) {
    throw new AttestationError('ERR_CERT_PARSE', 'certificate is not valid DER X.509', { cause });
  }
  const extensions = new Map<string, Buffer>();
  for (const ext of asn.tbsCertificate.extensions ?? []) {
    if (extensions.has(ext.extnID)) {
      throw new AttestationError('ERR_CERT_EXTENSION', `certificate carries extension ${ext.extnID} twice`);
    }
    extensions.set(ext.extnID, Buffer.from(ext.extnValue.buffer));
  }
  return {
    der,
    x509,
    sha256,
    subjectCN: commonName(asn.tbsCertificate.subject),
    issuerCN: commonName(asn.tbsCertificate.issuer),
    serialHex: x509.serialNumber.toLowerCase(),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    signatureAlgorithm: asn.signatureAlgorithm.algorithm,
    extensions,
  };
}

function commonName(name: Name): string | null {
  for (const rdn of name) for (const atv of rdn) if (atv.type === OID_CN) return atv.value.toString();
  return null;
}

const PEM_RE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/**
 * Reads certificates from any form users hand us: DER, one PEM, a PEM bundle (ASK+ARK, VCEK+ASK+ARK), or
 * Azure's THIM JSON (`vcekCert` + `certificateChain`). Order is preserved; roles are decided later by name.
 */
export function loadCertificates(input: Uint8Array): ParsedCertificate[] {
  const buf = Buffer.from(input);
  const text = buf.toString('utf8').trim();
  if (text.startsWith('{')) return loadThimJson(text);
  if (text.includes('-----BEGIN')) return loadPemBundle(text);
  return [parseCertificate(buf)];
}

export function loadPemBundle(text: string): ParsedCertificate[] {
  const certs = [...text.matchAll(PEM_RE)].map((m) => parseCertificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  if (certs.length === 0) throw new AttestationError('ERR_CERT_PARSE', 'no PEM CERTIFICATE block found');
  return certs;
}

function loadThimJson(text: string): ParsedCertificate[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new AttestationError('ERR_CERT_PARSE', 'certificate input looks like JSON but does not parse', { cause });
  }
  const { vcekCert, certificateChain } = (doc ?? {}) as Record<string, unknown>;
  if (typeof vcekCert !== 'string') {
    throw new AttestationError('ERR_CERT_PARSE', 'JSON certificate input must be Azure THIM form with a "vcekCert" PEM string');
  }
  const chain = typeof certificateChain === 'string' && certificateChain.includes('-----BEGIN') ? loadPemBundle(certificateChain) : [];
  return [...loadPemBundle(vcekCert), ...chain];
}

export function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

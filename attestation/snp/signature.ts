import { type KeyObject, verify } from 'node:crypto';
import type { ParsedCertificate } from './certificate.js';
import { type SnpReport, signedBytes } from './report.js';

const keys = new WeakMap<ParsedCertificate, KeyObject>();

function publicKeyOf(cert: ParsedCertificate): KeyObject {
  let key = keys.get(cert);
  if (!key) {
    key = cert.x509.publicKey;
    keys.set(cert, key);
  }
  return key;
}

/**
 * ECDSA P-384 / SHA-384 over report bytes 0x000..0x29F. R and S were stored little-endian in 72-byte fields;
 * parseReport already reversed them into 48-byte big-endian values, so r||s is IEEE P1363 form.
 */
export function verifyReportSignature(report: SnpReport, signer: ParsedCertificate): boolean {
  const sig = Buffer.concat([report.signatureR, report.signatureS]);
  return verify('sha384', signedBytes(report), { key: publicKeyOf(signer), dsaEncoding: 'ieee-p1363' }, sig);
}

import 'reflect-metadata';
import { X509Certificate, createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { KeystoreError } from '../keystore/errors.js';

/** What the runner trusts for release signers. At least one of the two must be non-empty. */
export interface ReleaseTrust {
  /** PEM certificates of trusted roots (e.g. DigiCert Global Root G2 for Azure, the KRS's own CA). */
  readonly trustedRoots?: readonly string[];
  /** SHA-256 fingerprints (hex, colons allowed, or base64url) of certificates trusted as anchors: a pinned leaf or CA. */
  readonly pinnedCertificates?: readonly string[];
}

const MAX_CHAIN = 8;

/** Parses x5c (standard base64 DER, leaf first). */
export function parseX5c(x5c: unknown): X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN) throw new KeystoreError('ERR_RELEASE_X5C', `x5c must hold 1-${MAX_CHAIN} certificates`);
  return x5c.map((c, i) => {
    if (typeof c !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(c)) throw new KeystoreError('ERR_RELEASE_X5C', `x5c[${i}] is not base64`);
    try {
      return new X509Certificate(Buffer.from(c, 'base64'));
    } catch {
      throw new KeystoreError('ERR_RELEASE_X5C', `x5c[${i}] is not a DER certificate`);
    }
  });
}

export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/:/g, '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(hex)) return hex;
  const b = Buffer.from(fp, 'base64url');
  if (b.length === 32) return b.toString('hex');
  throw new KeystoreError('ERR_RELEASE_NO_TRUST', `"${fp.slice(0, 100)}" is not a SHA-256 certificate fingerprint`);
}

/**
 * Finds the trust anchor: the first chain certificate that is pinned or is a trusted root, else a trusted root
 * that issued the last certificate. Returns the chain to verify, leaf first, ending at the anchor.
 */
function anchorChain(chain: readonly X509Certificate[], trust: ReleaseTrust): X509Certificate[] {
  const pins = new Set((trust.pinnedCertificates ?? []).map(normalizeFingerprint));
  const roots = (trust.trustedRoots ?? []).map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch {
      throw new KeystoreError('ERR_RELEASE_NO_TRUST', `trusted root ${i} is not a PEM certificate`);
    }
  });
  if (pins.size === 0 && roots.length === 0) throw new KeystoreError('ERR_RELEASE_NO_TRUST', 'no trusted root and no pinned certificate were given');
  const rootPrints = new Set(roots.map((r) => sha256Hex(r.raw)));
  for (let i = 0; i < chain.length; i++) {
    const fp = sha256Hex(chain[i]!.raw);
    if (pins.has(fp) || rootPrints.has(fp)) return chain.slice(0, i + 1);
  }
  const last = chain[chain.length - 1]!;
  const issuer = roots.find((r) => last.checkIssued(r) && last.verify(r.publicKey));
  if (issuer) return [...chain, issuer];
  throw new KeystoreError('ERR_RELEASE_UNTRUSTED', 'the x5c chain reaches neither a trusted root nor a pinned certificate');
}

function checkValidity(cert: X509Certificate, now: Date, position: number): void {
  if (now.getTime() < Date.parse(cert.validFrom)) throw new KeystoreError('ERR_RELEASE_CERT_NOT_YET_VALID', `certificate ${position} of the chain is valid from ${new Date(cert.validFrom).toISOString()}`);
  if (now.getTime() > Date.parse(cert.validTo)) throw new KeystoreError('ERR_RELEASE_CERT_EXPIRED', `certificate ${position} of the chain expired ${new Date(cert.validTo).toISOString()}`);
}

/** An issuer must be a CA allowed to sign certificates, with room in its path length for the ones below it. */
function checkIssuer(cert: X509Certificate, below: number, position: number): void {
  const parsed = new x509.X509Certificate(cert.raw);
  const bc = parsed.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new KeystoreError('ERR_RELEASE_CHAIN', `certificate ${position} issues others but is not a CA`);
  if (bc.pathLength !== undefined && below - 1 > bc.pathLength) throw new KeystoreError('ERR_RELEASE_CHAIN', `certificate ${position} exceeds its path length constraint`);
  const ku = parsed.getExtension(x509.KeyUsagesExtension);
  if (ku && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) throw new KeystoreError('ERR_RELEASE_CHAIN', `certificate ${position} may not sign certificates`);
}

function checkLeafUsage(leaf: X509Certificate): void {
  const ku = new x509.X509Certificate(leaf.raw).getExtension(x509.KeyUsagesExtension);
  if (ku && (ku.usages & x509.KeyUsageFlags.digitalSignature) === 0) throw new KeystoreError('ERR_RELEASE_CHAIN', 'the signing certificate may not make digital signatures');
}

/**
 * Verifies x5c up to a trust anchor at `now`: each certificate issued and signed by the next, issuers are CAs
 * within their path length, every certificate valid, the leaf allowed to sign, and (when asked) valid for
 * `expectedHost`. Returns the leaf.
 */
export function verifyX5cChain(chain: readonly X509Certificate[], trust: ReleaseTrust, now: Date, expectedHost?: string): X509Certificate {
  const anchored = anchorChain(chain, trust);
  for (const [i, c] of anchored.entries()) checkValidity(c, now, i);
  for (let i = 0; i + 1 < anchored.length; i++) {
    const cert = anchored[i]!;
    const issuer = anchored[i + 1]!;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new KeystoreError('ERR_RELEASE_CHAIN', `certificate ${i} of the chain is not signed by certificate ${i + 1}`);
    checkIssuer(issuer, i + 1, i + 1);
  }
  const leaf = anchored[0]!;
  checkLeafUsage(leaf);
  if (expectedHost !== undefined && leaf.checkHost(expectedHost) === undefined) throw new KeystoreError('ERR_RELEASE_HOSTNAME', `the signing certificate is not valid for ${expectedHost}`);
  return leaf;
}

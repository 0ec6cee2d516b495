import { type KeyObject, constants as cryptoConstants, verify as cryptoVerify } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CertificateList, type Name, type TBSCertList } from '@peculiar/asn1-x509';
import { AttestationError } from '../errors.js';
import type { ParsedCertificate } from './certificate.js';
import type { TrustAnchor } from './trust.js';

/** A CRL whose signature, issuer and validity window have been checked against a pinned ARK. */
export interface VerifiedCrl {
  readonly issuerCN: string;
  readonly thisUpdate: Date;
  /** Null when the CRL omits nextUpdate (RFC 5280 requires it; AMD sets it). */
  readonly nextUpdate: Date | null;
  /** Serial numbers as {@link normalizeSerialHex} renders them. */
  readonly revokedSerials: ReadonlySet<string>;
}

/** A CRL that is well-formed DER, nothing more: no signature or issuer check has been done. */
export interface ParsedCrl {
  readonly issuerCN: string | null;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly revokedSerials: ReadonlySet<string>;
}

/** KDS CRLs are a few KiB; anything near this is not an AMD CRL. */
export const MAX_CRL_BYTES = 1024 * 1024;

const OID_CN = '2.5.4.3';
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_MGF1 = '1.2.840.113549.1.1.8';
const HASH_BY_OID: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const RSA_PKCS1_BY_OID: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const ECDSA_BY_OID: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
/** Extensions we understand well enough to accept when marked critical (RFC 5280 §5.2, §5.3). */
const KNOWN_CRITICAL_CRL_EXTENSIONS = new Set(['2.5.29.20', '2.5.29.35', '2.5.29.28']);
const KNOWN_CRITICAL_ENTRY_EXTENSIONS = new Set(['2.5.29.21', '2.5.29.24']);

/**
 * RSASSA-PSS-params (RFC 4055 §3.1). Declared without decorator syntax so the file means the same under
 * tsc and under the test runner's transformer; every field is optional and defaults are judged below.
 */
class RsaPssParams {
  hashAlgorithm?: AlgorithmIdentifier;
  maskGenAlgorithm?: AlgorithmIdentifier;
  saltLength?: number;
  trailerField?: number;
}
AsnType({ type: AsnTypeTypes.Sequence })(RsaPssParams);
AsnProp({ type: AlgorithmIdentifier, context: 0, optional: true })(RsaPssParams.prototype, 'hashAlgorithm');
AsnProp({ type: AlgorithmIdentifier, context: 1, optional: true })(RsaPssParams.prototype, 'maskGenAlgorithm');
AsnProp({ type: AsnPropTypes.Integer, context: 2, optional: true })(RsaPssParams.prototype, 'saltLength');
AsnProp({ type: AsnPropTypes.Integer, context: 3, optional: true })(RsaPssParams.prototype, 'trailerField');

/**
 * Canonical form of a certificate serial number for comparisons: lower-case hex, no leading zeros, "0"
 * for zero. Node's `X509Certificate.serialNumber` pads to whole bytes ("010001"), DER INTEGERs may carry a
 * sign byte ("0080"); both collapse to the same string here.
 */
export function normalizeSerialHex(hex: string): string {
  const trimmed = hex.toLowerCase().replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

/**
 * Parses a DER CRL without judging who signed it. Throws ERR_CRL_INVALID on anything malformed,
 * including trailing bytes and unknown critical extensions. Use {@link verifyCrl} before relying on it.
 */
export function parseCrl(crlDer: Uint8Array): ParsedCrl {
  const { crl } = decodeCrl(crlDer);
  return describe(crl.tbsCertList);
}

/**
 * Verifies an AMD CRL against a product's pinned ARK (shared/docs/snp-evidence.md §9.6, pitfall 25):
 * 1. the DER parses, with no trailing bytes and no critical extension we do not understand;
 * 2. the issuer Name equals the ARK's subject Name;
 * 3. the signature verifies with the ARK public key (RSASSA-PSS as AMD signs, or PKCS#1 v1.5 / ECDSA);
 * 4. `now` lies within thisUpdate..nextUpdate, widened by `clockSkewMs`: a stale CRL may be a replay.
 * Steps 1-3 fail with ERR_CRL_INVALID, step 4 with ERR_CRL_STALE.
 */
export function verifyCrl(crlDer: Uint8Array, anchor: TrustAnchor, now: Date, options: { clockSkewMs?: number } = {}): VerifiedCrl {
  const { crl, tbsDer } = decodeCrl(crlDer);
  const parsed = describe(crl.tbsCertList);
  const arkCN = anchor.ark.subjectCN ?? '(no CN)';
  if (!sameName(crl.tbsCertList.issuer, arkSubject(anchor.ark))) {
    throw invalid(`CRL issuer "${parsed.issuerCN ?? '(no CN)'}" is not the ${anchor.product} ARK "${arkCN}"`);
  }
  verifySignature(crl, tbsDer, anchor.ark.x509.publicKey, arkCN);
  checkWindow(parsed, now, options.clockSkewMs ?? 0);
  return { ...parsed, issuerCN: parsed.issuerCN ?? arkCN };
}

/**
 * One ERR_CERT_REVOKED per certificate listed on the CRL. Only certificates issued by the CRL's issuer
 * are looked up: serials are unique per issuer, and every VCEK has serial 0.
 */
export function checkRevoked(certs: readonly ParsedCertificate[], crl: VerifiedCrl): AttestationError[] {
  return certs
    .filter((c) => c.issuerCN === crl.issuerCN && crl.revokedSerials.has(normalizeSerialHex(c.serialHex)))
    .map(
      (c) =>
        new AttestationError(
          'ERR_CERT_REVOKED',
          `certificate "${c.subjectCN ?? '(no CN)'}" serial 0x${c.serialHex} is revoked by ${crl.issuerCN}'s CRL`,
        ),
    );
}

function decodeCrl(crlDer: Uint8Array): { crl: CertificateList; tbsDer: Buffer } {
  if (crlDer.length === 0 || crlDer.length > MAX_CRL_BYTES) {
    throw invalid(`CRL is ${crlDer.length} bytes; expected 1..${MAX_CRL_BYTES}`);
  }
  const der = Buffer.from(crlDer);
  const problem = envelopeProblem(der);
  if (problem) throw invalid(problem);
  let crl: CertificateList;
  try {
    crl = AsnConvert.parse(der, CertificateList, { berOptions: { maxDepth: 16, maxContentLength: MAX_CRL_BYTES } });
  } catch (cause) {
    throw invalid('CRL is not valid DER CertificateList', cause);
  }
  if (!crl.tbsCertListRaw) throw invalid('CRL has no signed TBSCertList');
  checkStructure(crl);
  return { crl, tbsDer: Buffer.from(crl.tbsCertListRaw) };
}

function checkStructure(crl: CertificateList): void {
  const tbs = crl.tbsCertList;
  if (tbs.version !== undefined && tbs.version !== 1) throw invalid(`CRL version ${tbs.version} is not v2`);
  if (!crl.signatureAlgorithm.isEqual(tbs.signature)) {
    // RFC 5280 §5.1.1.2: the unsigned outer algorithm must repeat the signed inner one.
    throw invalid('CRL signatureAlgorithm differs from the signed TBSCertList.signature');
  }
  for (const ext of tbs.crlExtensions ?? []) {
    if (ext.critical && !KNOWN_CRITICAL_CRL_EXTENSIONS.has(ext.extnID)) {
      throw invalid(`CRL has unsupported critical extension ${ext.extnID}`);
    }
  }
  for (const entry of tbs.revokedCertificates ?? []) {
    for (const ext of entry.crlEntryExtensions ?? []) {
      if (ext.critical && !KNOWN_CRITICAL_ENTRY_EXTENSIONS.has(ext.extnID)) {
        throw invalid(`CRL entry has unsupported critical extension ${ext.extnID}`);
      }
    }
  }
}

function describe(tbs: TBSCertList): ParsedCrl {
  const thisUpdate = tbs.thisUpdate.getTime();
  const nextUpdate = tbs.nextUpdate?.getTime() ?? null;
  if (Number.isNaN(thisUpdate.getTime()) || (nextUpdate !== null && Number.isNaN(nextUpdate.getTime()))) {
    throw invalid('CRL has an unreadable thisUpdate/nextUpdate');
  }
  if (nextUpdate !== null && nextUpdate < thisUpdate) throw invalid('CRL nextUpdate is before thisUpdate');
  const revokedSerials = new Set(
    (tbs.revokedCertificates ?? []).map((r) => normalizeSerialHex(Buffer.from(r.userCertificate).toString('hex'))),
  );
  return { issuerCN: commonName(tbs.issuer), thisUpdate, nextUpdate, revokedSerials };
}

function checkWindow(crl: ParsedCrl, now: Date, skewMs: number): void {
  const t = now.getTime();
  if (t + skewMs < crl.thisUpdate.getTime()) {
    throw new AttestationError('ERR_CRL_STALE', `CRL is not valid until ${crl.thisUpdate.toISOString()} (now ${now.toISOString()})`);
  }
  if (crl.nextUpdate !== null && t - skewMs > crl.nextUpdate.getTime()) {
    throw new AttestationError(
      'ERR_CRL_STALE',
      `CRL expired at nextUpdate ${crl.nextUpdate.toISOString()} (now ${now.toISOString()}); fetch a fresh one`,
    );
  }
}

function verifySignature(crl: CertificateList, tbsDer: Buffer, key: KeyObject, arkCN: string): void {
  const { hash, keyTypes, options } = signatureScheme(crl.signatureAlgorithm);
  if (!keyTypes.includes(key.asymmetricKeyType ?? '')) {
    throw invalid(`CRL signature algorithm ${crl.signatureAlgorithm.algorithm} does not fit the ${arkCN} key type`);
  }
  let ok: boolean;
  try {
    ok = cryptoVerify(hash, tbsDer, { key, ...options }, Buffer.from(crl.signature));
  } catch (cause) {
    throw invalid(`CRL signature could not be checked with ${arkCN}`, cause);
  }
  if (!ok) throw invalid(`CRL signature does not verify with ${arkCN}`);
}

interface SignatureScheme {
  readonly hash: string;
  readonly keyTypes: readonly string[];
  readonly options: { padding?: number; saltLength?: number; dsaEncoding?: 'der' };
}

function signatureScheme(alg: AlgorithmIdentifier): SignatureScheme {
  const pkcs1 = RSA_PKCS1_BY_OID[alg.algorithm];
  if (pkcs1) return { hash: pkcs1, keyTypes: ['rsa'], options: { padding: cryptoConstants.RSA_PKCS1_PADDING } };
  const ecdsa = ECDSA_BY_OID[alg.algorithm];
  if (ecdsa) return { hash: ecdsa, keyTypes: ['ec'], options: { dsaEncoding: 'der' } };
  if (alg.algorithm === OID_RSASSA_PSS) return pssScheme(alg.parameters);
  throw invalid(`CRL signature algorithm ${alg.algorithm} is not supported`);
}

/** AMD signs with RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48; the parameters are read, not assumed. */
function pssScheme(parameters: ArrayBuffer | null | undefined): SignatureScheme {
  if (!parameters) throw invalid('RSASSA-PSS CRL signature has no parameters (SHA-1 defaults are refused)');
  let params: RsaPssParams;
  let mgfHash: AlgorithmIdentifier | null = null;
  try {
    params = AsnConvert.parse(parameters, RsaPssParams);
    const mgfParams = params.maskGenAlgorithm?.parameters;
    if (mgfParams) mgfHash = AsnConvert.parse(mgfParams, AlgorithmIdentifier);
  } catch (cause) {
    throw invalid('RSASSA-PSS parameters are malformed', cause);
  }
  const hash = HASH_BY_OID[params.hashAlgorithm?.algorithm ?? ''];
  if (!hash) throw invalid('RSASSA-PSS hash must be SHA-256, SHA-384 or SHA-512');
  // node:crypto always uses MGF1 with the message digest, so any other mask generation cannot be verified.
  if (params.maskGenAlgorithm?.algorithm !== OID_MGF1 || HASH_BY_OID[mgfHash?.algorithm ?? ''] !== hash) {
    throw invalid(`RSASSA-PSS mask generation must be MGF1 with ${hash}`);
  }
  if ((params.trailerField ?? 1) !== 1) throw invalid('RSASSA-PSS trailerField must be 1');
  const saltLength = params.saltLength ?? 20;
  if (!Number.isSafeInteger(saltLength) || saltLength < 0 || saltLength > 1024) {
    throw invalid('RSASSA-PSS saltLength is out of range');
  }
  return { hash, keyTypes: ['rsa', 'rsa-pss'], options: { padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength } };
}

function arkSubject(ark: ParsedCertificate): Name {
  try {
    return AsnConvert.parse(ark.der, Certificate).tbsCertificate.subject;
  } catch (cause) {
    throw invalid('trust anchor ARK does not parse', cause);
  }
}

/** Exact DER equality of Names: stricter than RFC 5280 name matching, which AMD's fixed names never need. */
function sameName(a: Name, b: Name): boolean {
  return Buffer.from(AsnConvert.serialize(a)).equals(Buffer.from(AsnConvert.serialize(b)));
}

function commonName(name: Name): string | null {
  for (const rdn of name) for (const atv of rdn) if (atv.type === OID_CN) return atv.value.toString();
  return null;
}

/** Length of the outer TLV (tag + length octets + contents), or -1 if the header is not definite DER. */
/** One DER element's tag and extent at `at`, or null if its header is malformed or runs past the end. */
function derElement(der: Buffer, at: number): { tag: number; start: number; content: number; end: number } | null {
  if (at + 2 > der.length) return null;
  const first = der[at + 1]!;
  let content = at + 2;
  let len = first;
  if (first >= 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4 || at + 2 + octets > der.length) return null;
    len = 0;
    for (let i = 0; i < octets; i++) len = len * 256 + der[at + 2 + i]!;
    content += octets;
  }
  const end = content + len;
  return end > der.length ? null : { tag: der[at]!, start: at, content, end };
}

/**
 * The unsigned envelope must be exactly SEQUENCE { SEQUENCE tbs, SEQUENCE algorithm, BIT STRING signature }
 * filling the input, with the outer algorithm byte-identical to the TBS's (RFC 5280 5.1.1.2) and no unused
 * bits: the schema parser tolerates other tag classes there, and the signature cannot see these bytes.
 * Returns why the envelope is refused, or null.
 */
function envelopeProblem(der: Buffer): string | null {
  const outer = derElement(der, 0);
  if (outer?.tag !== 0x30 || outer.end !== der.length) return 'CRL is not one DER SEQUENCE (truncated or trailing bytes)';
  const tbs = derElement(der, outer.content);
  const alg = tbs?.tag === 0x30 ? derElement(der, tbs.end) : null;
  const sig = alg?.tag === 0x30 ? derElement(der, alg.end) : null;
  if (!tbs || !alg || !sig || sig.tag !== 0x03 || sig.end !== der.length || der[sig.content] !== 0) {
    return 'CRL is not a DER CertificateList { TBSCertList, AlgorithmIdentifier, BIT STRING }';
  }
  let inner = derElement(der, tbs.content);
  if (inner?.tag === 0x02) inner = derElement(der, inner.end); // optional version
  if (!inner || !der.subarray(inner.start, inner.end).equals(der.subarray(alg.start, alg.end))) {
    return 'CRL outer signatureAlgorithm differs from the signed one in the TBSCertList';
  }
  return null;
}

function invalid(message: string, cause?: unknown): AttestationError {
  return new AttestationError('ERR_CRL_INVALID', message, cause === undefined ? undefined : { cause });
}

import { type KeyObject, constants, generateKeyPairSync, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  CertificateList,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  RevokedCertificate,
  SubjectPublicKeyInfo,
  TBSCertList,
  TBSCertificate,
  Time,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { type ParsedCertificate, parseCertificate } from '../../attestation/snp/certificate.js';
import type { Product } from '../../attestation/snp/product.js';
import type { Tcb } from '../../attestation/snp/tcb.js';
import type { TrustAnchor } from '../../attestation/snp/trust.js';

/**
 * Throwaway AMD-shaped PKI for CRL and KDS tests: an ARK and ASK (RSA 2048 instead of 4096, for speed),
 * VCEK-like leaves with AMD extensions, and CRLs. Everything is signed the way AMD signs: RSASSA-PSS,
 * SHA-384, MGF1-SHA-384, salt 48. Built independently of attestation/ so a bug there is not mirrored here.
 */

/** RSASSA-PSS-params exactly as AMD's ARK/ASK encode them (explicit trailerField), taken from ARK-Milan. */
export const AMD_PSS_PARAMS_HEX =
  '3039a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130a303020101';

export const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';

export function pssSha384(): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: RSASSA_PSS_OID, parameters: hexToArrayBuffer(AMD_PSS_PARAMS_HEX) });
}

const HASH_OIDS = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;
export type HashName = keyof typeof HASH_OIDS;

/** RSASSA-PSS with chosen parameters, hand-encoded (short-form DER lengths only), for negative tests. */
export function pssAlgorithm(o: { hash: HashName; mgfHash: HashName; saltLength: number }): AlgorithmIdentifier {
  const hashAlg = (h: HashName): Buffer => Buffer.from(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: HASH_OIDS[h], parameters: null })));
  const mgf = Buffer.from(
    AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.8', parameters: toArrayBuffer(hashAlg(o.mgfHash)) })),
  );
  const body = Buffer.concat([tlv(0xa0, hashAlg(o.hash)), tlv(0xa1, mgf), tlv(0xa2, tlv(0x02, Buffer.from([o.saltLength])))]);
  return new AlgorithmIdentifier({ algorithm: RSASSA_PSS_OID, parameters: toArrayBuffer(tlv(0x30, body)) });
}

function tlv(tag: number, value: Buffer): Buffer {
  if (value.length > 127) throw new Error('fixture tlv() only writes short-form lengths');
  return Buffer.concat([Buffer.from([tag, value.length]), value]);
}

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function rsaKeyPair(): KeyPair {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

export function p384KeyPair(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-384' });
}

export function signPssSha384(key: KeyObject, data: Uint8Array): Buffer {
  return sign('sha384', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
}

/** An AMD-style name: the real ones also carry OU/O/L/ST/C, which order-sensitive matching must see. */
export function amdName(cn: string): Name {
  const attr = (type: string, value: string): RelativeDistinguishedName =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([
    attr('2.5.4.11', 'Engineering'),
    attr('2.5.4.6', 'US'),
    attr('2.5.4.7', 'Santa Clara'),
    attr('2.5.4.8', 'CA'),
    attr('2.5.4.10', 'Advanced Micro Devices'),
    attr('2.5.4.3', cn),
  ]);
}

export interface IssueOptions {
  readonly subjectCN: string;
  readonly issuerCN: string;
  readonly serialHex: string;
  readonly subjectKey: KeyObject;
  readonly signerKey: KeyObject;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly extensions?: readonly Extension[];
}

/** A DER X.509 v3 certificate signed with RSASSA-PSS SHA-384. */
export function issueCertificate(o: IssueOptions): Buffer {
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialBytes(o.serialHex),
    signature: pssSha384(),
    issuer: amdName(o.issuerCN),
    validity: new Validity({
      notBefore: o.notBefore ?? new Date('2020-01-01T00:00:00Z'),
      notAfter: o.notAfter ?? new Date('2045-01-01T00:00:00Z'),
    }),
    subject: amdName(o.subjectCN),
    subjectPublicKeyInfo: AsnConvert.parse(o.subjectKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    ...(o.extensions ? { extensions: new Extensions([...o.extensions]) } : {}),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: pssSha384(), signatureValue: toArrayBuffer(signPssSha384(o.signerKey, tbsDer)) });
  return Buffer.from(AsnConvert.serialize(cert));
}

export interface TestPki {
  readonly product: Product;
  readonly arkKey: KeyPair;
  readonly askKey: KeyPair;
  readonly ark: ParsedCertificate;
  readonly ask: ParsedCertificate;
  readonly anchor: TrustAnchor;
}

/** ARK-{P} (serial 0x010000) and SEV-{P} (serial 0x010001) like AMD's Milan pair, as a simulated anchor. */
export function makeTestPki(product: Product = 'Milan'): TestPki {
  const arkKey = rsaKeyPair();
  const askKey = rsaKeyPair();
  const arkCN = `ARK-${product}`;
  const ark = parseCertificate(
    issueCertificate({ subjectCN: arkCN, issuerCN: arkCN, serialHex: '010000', subjectKey: arkKey.publicKey, signerKey: arkKey.privateKey }),
  );
  const ask = parseCertificate(
    issueCertificate({ subjectCN: `SEV-${product}`, issuerCN: arkCN, serialHex: '010001', subjectKey: askKey.publicKey, signerKey: arkKey.privateKey }),
  );
  return { product, arkKey, askKey, ark, ask, anchor: { product, ark, ask, asvk: null, simulated: true } };
}

export interface CrlOptions {
  readonly issuerCN: string;
  /** The exact issuer Name (e.g. taken from the ARK certificate); overrides `issuerCN`. */
  readonly issuerName?: Name;
  readonly signerKey: KeyObject;
  readonly thisUpdate: Date;
  /** Null omits the field. */
  readonly nextUpdate: Date | null;
  readonly revokedSerialsHex?: readonly string[];
  /** Defaults to AMD's RSASSA-PSS SHA-384 parameters. */
  readonly algorithm?: AlgorithmIdentifier;
  /** The unsigned outer signatureAlgorithm; defaults to `algorithm` (RFC 5280 wants them equal). */
  readonly outerAlgorithm?: AlgorithmIdentifier;
  /** Defaults to RSASSA-PSS SHA-384 salt 48 over the TBSCertList. */
  readonly signer?: (tbsDer: Buffer) => Buffer;
  readonly crlExtensions?: readonly Extension[];
}

/** A DER v2 CRL. */
export function makeCrl(o: CrlOptions): Buffer {
  const algorithm = o.algorithm ?? pssSha384();
  const revoked = (o.revokedSerialsHex ?? []).map(
    (s) => new RevokedCertificate({ userCertificate: serialBytes(s), revocationDate: new Time(o.thisUpdate) }),
  );
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: o.issuerName ?? amdName(o.issuerCN),
    thisUpdate: new Time(o.thisUpdate),
    ...(o.nextUpdate ? { nextUpdate: new Time(o.nextUpdate) } : {}),
    ...(revoked.length > 0 ? { revokedCertificates: revoked } : {}),
    ...(o.crlExtensions ? { crlExtensions: [...o.crlExtensions] } : {}),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = o.signer ? o.signer(tbsDer) : signPssSha384(o.signerKey, tbsDer);
  const crl = new CertificateList({ tbsCertList: tbs, signatureAlgorithm: o.outerAlgorithm ?? algorithm, signature: toArrayBuffer(signature) });
  return Buffer.from(AsnConvert.serialize(crl));
}

const AMD_OID = '1.3.6.1.4.1.3704.1.';

/** VCEK extensions as AMD encodes them: SPLs as DER INTEGERs, hwID as raw bytes (8 on Turin, else 64). */
export function vcekExtensions(product: Product, chipId: Buffer, tcb: Tcb): Extension[] {
  const ext = (suffix: string, value: Buffer): Extension =>
    new Extension({ extnID: AMD_OID + suffix, critical: false, extnValue: new OctetString(toArrayBuffer(value)) });
  const int = (n: number): Buffer => (n >= 0x80 ? Buffer.from([0x02, 0x02, 0x00, n]) : Buffer.from([0x02, 0x01, n]));
  const turin = product === 'Turin';
  const name = Buffer.from(product, 'ascii');
  return [
    ext('1', int(turin ? 1 : 0)),
    ext('2', Buffer.concat([Buffer.from([0x16, name.length]), name])),
    ext('3.1', int(tcb.bootloader)),
    ext('3.2', int(tcb.tee)),
    ext('3.3', int(tcb.snp)),
    ext('3.8', int(tcb.microcode)),
    ...(turin ? [ext('3.9', int(tcb.fmc ?? 0))] : [ext('3.4', int(0))]),
    ext('4', turin ? chipId.subarray(0, 8) : chipId),
  ];
}

/** A VCEK-shaped certificate (CN SEV-VCEK, serial 0, P-384 key) issued by the PKI's ASK. */
export function makeVcek(pki: TestPki, chipId: Buffer, tcb: Tcb): Buffer {
  return issueCertificate({
    subjectCN: 'SEV-VCEK',
    issuerCN: `SEV-${pki.product}`,
    serialHex: '00',
    subjectKey: p384KeyPair().publicKey,
    signerKey: pki.askKey.privateKey,
    extensions: vcekExtensions(pki.product, chipId, tcb),
  });
}

/** Minimal positive DER INTEGER contents for a hex serial. */
export function serialBytes(hex: string): ArrayBuffer {
  let b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.subarray(1);
  if (b.length === 0 || b[0]! >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return toArrayBuffer(b);
}

export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function hexToArrayBuffer(hex: string): ArrayBuffer {
  return toArrayBuffer(Buffer.from(hex, 'hex'));
}

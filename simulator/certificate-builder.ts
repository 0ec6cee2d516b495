import { type KeyObject, createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { OID_RSASSA_PSS } from '../attestation/snp/certificate.js';
import { derBitString, derSequence, integerBytes, toArrayBuffer } from './der.js';
import { signRsaPss } from './rsa-pss.js';
import { type SeedMaterial, seededMac } from './seed.js';

/**
 * RSASSA-PSS-params {SHA-384, MGF1(SHA-384), salt 48}. AMD's CA certificates also spell out the default
 * trailerField (non-canonical DER, still accepted by OpenSSL); recent VCEKs omit it. We copy both shapes.
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const PSS_PARAMS_BODY = hex('a0 0f 30 0d 06 09 60 86 48 01 65 03 04 02 02 05 00 a1 1c 30 1a 06 09 2a 86 48 86 f7 0d 01 01 08 30 0d 06 09 60 86 48 01 65 03 04 02 02 05 00 a2 03 02 01 30');
const PSS_PARAMS = derSequence(PSS_PARAMS_BODY);
const PSS_PARAMS_WITH_TRAILER = derSequence(PSS_PARAMS_BODY, hex('a3 03 02 01 01'));

const OID = { ou: '2.5.4.11', c: '2.5.4.6', l: '2.5.4.7', st: '2.5.4.8', o: '2.5.4.10', cn: '2.5.4.3' } as const;

/** AMD's subject/issuer shape, in AMD's attribute order: OU, C, L, ST, O, CN (C is a PrintableString). */
export function amdName(commonName: string): Name {
  const atv = (type: string, value: AttributeValue): RelativeDistinguishedName => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value })]);
  const utf8 = (s: string): AttributeValue => new AttributeValue({ utf8String: s });
  return new Name([
    atv(OID.ou, utf8('Engineering')),
    atv(OID.c, new AttributeValue({ printableString: 'US' })),
    atv(OID.l, utf8('Santa Clara')),
    atv(OID.st, utf8('CA')),
    atv(OID.o, utf8('Advanced Micro Devices')),
    atv(OID.cn, utf8(commonName)),
  ]);
}

/** An extension whose extnValue contents are given as raw bytes. */
export function rawExtension(oid: string, contents: Uint8Array, critical = false): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(toArrayBuffer(contents)) });
}

/** An extension whose contents are an asn1-schema object. */
export function schemaExtension(oid: string, value: object, critical = false): Extension {
  return rawExtension(oid, Buffer.from(AsnConvert.serialize(value)), critical);
}

export function spkiOf(publicKey: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1), as AMD's SKI/AKI values are. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(Buffer.from(spkiOf(publicKey).subjectPublicKey)).digest();
}

export interface CertificateSpec {
  readonly serial: number;
  readonly issuerCn: string;
  readonly subjectCn: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKey: KeyObject;
  readonly extensions: readonly Extension[];
  /** Spell out the PSS trailerField as AMD's ARK/ASK/ASVK do. */
  readonly explicitPssTrailer: boolean;
}

/** The issuer's RSA key; with seed material the PSS salt is HMAC(seed, tbs), so the certificate is reproducible. */
export interface CertificateSigner {
  readonly key: KeyObject;
  readonly seed: SeedMaterial;
}

/**
 * Encodes the TBSCertificate with the asn1-x509 schema, signs those exact bytes and assembles
 * Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue } around them, so nothing re-encodes
 * the signed bytes.
 */
export function buildCertificate(spec: CertificateSpec, signer: CertificateSigner): Buffer {
  const algorithm = new AlgorithmIdentifier({
    algorithm: OID_RSASSA_PSS,
    parameters: toArrayBuffer(spec.explicitPssTrailer ? PSS_PARAMS_WITH_TRAILER : PSS_PARAMS),
  });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: integerBytes(spec.serial),
    signature: algorithm,
    issuer: amdName(spec.issuerCn),
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: amdName(spec.subjectCn),
    subjectPublicKeyInfo: spkiOf(spec.subjectPublicKey),
    extensions: new Extensions([...spec.extensions]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const salt = signer.seed === null ? undefined : seededMac(signer.seed, 'pss-salt', tbsDer);
  const signature = signRsaPss(signer.key, tbsDer, salt);
  return derSequence(tbsDer, Buffer.from(AsnConvert.serialize(algorithm)), derBitString(signature));
}

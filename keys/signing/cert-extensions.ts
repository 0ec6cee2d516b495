import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, ExtendedKeyUsage, KeyUsage, type KeyUsageType, id_ce_basicConstraints, id_ce_extKeyUsage, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { KeyError } from '../errors.js';

/** The extensions node:crypto does not expose (KeyUsage bits, pathLen), read from the ASN.1. */
export interface CertificateFacts {
  readonly x509: X509Certificate;
  /** KeyUsage names, or undefined when the extension is absent. */
  readonly keyUsage: readonly KeyUsageType[] | undefined;
  readonly extendedKeyUsage: readonly string[] | undefined;
  readonly isCA: boolean;
  readonly pathLen: number | undefined;
}

export const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

/** Parses one DER or PEM certificate. */
export function certificateFacts(input: Buffer | string): CertificateFacts {
  try {
    const x509 = new X509Certificate(input);
    const asn = AsnConvert.parse(x509.raw, Certificate);
    const ext = (oid: string) => asn.tbsCertificate.extensions?.find((e) => e.extnID === oid)?.extnValue.buffer;
    const ku = ext(id_ce_keyUsage);
    const bc = ext(id_ce_basicConstraints);
    const eku = ext(id_ce_extKeyUsage);
    const basic = bc ? AsnConvert.parse(bc, BasicConstraints) : undefined;
    return {
      x509,
      keyUsage: ku ? AsnConvert.parse(ku, KeyUsage).toJSON() : undefined,
      extendedKeyUsage: eku ? [...AsnConvert.parse(eku, ExtendedKeyUsage)] : undefined,
      isCA: Boolean(basic?.cA),
      pathLen: basic?.pathLenConstraint,
    };
  } catch (cause) {
    throw new KeyError('ERR_SIG_CERT_PARSE', 'a certificate cannot be parsed as X.509', { cause });
  }
}

/** Every certificate in a PEM text (several blocks allowed), or one DER certificate. */
export function certificatesFromInput(input: Buffer | string): CertificateFacts[] {
  const text = input.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (blocks) return blocks.map((b) => certificateFacts(b));
  return [certificateFacts(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'))];
}

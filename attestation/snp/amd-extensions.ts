import { AttestationError } from '../errors.js';

/**
 * AMD's X.509 extensions on VCEK/VLEK certificates (VCEK spec AMD #57230; shared/docs/snp-evidence.md §9.3).
 * Looked up by OID, never by position: Milan/Genoa and Turin order them differently (pitfall 21).
 */
export const AMD_OID = {
  structVersion: '1.3.6.1.4.1.3704.1.1',
  productName: '1.3.6.1.4.1.3704.1.2',
  blSPL: '1.3.6.1.4.1.3704.1.3.1',
  teeSPL: '1.3.6.1.4.1.3704.1.3.2',
  snpSPL: '1.3.6.1.4.1.3704.1.3.3',
  spl4: '1.3.6.1.4.1.3704.1.3.4',
  spl5: '1.3.6.1.4.1.3704.1.3.5',
  spl6: '1.3.6.1.4.1.3704.1.3.6',
  spl7: '1.3.6.1.4.1.3704.1.3.7',
  ucodeSPL: '1.3.6.1.4.1.3704.1.3.8',
  fmcSPL: '1.3.6.1.4.1.3704.1.3.9',
  hwID: '1.3.6.1.4.1.3704.1.4',
  cspID: '1.3.6.1.4.1.3704.1.5',
} as const;

export interface AmdExtensions {
  readonly structVersion: number | null;
  readonly productName: string | null;
  readonly blSPL: number | null;
  readonly teeSPL: number | null;
  readonly snpSPL: number | null;
  readonly ucodeSPL: number | null;
  readonly fmcSPL: number | null;
  /** Raw chip id: 64 bytes (Milan/Genoa) or 8 bytes (Turin). VCEK only. */
  readonly hwID: Buffer | null;
  readonly hwIDEncoding: 'raw' | 'octet-string' | null;
  /** VLEK only: the cloud provider the VLEK was issued to. */
  readonly cspID: string | null;
}

/**
 * Decodes the AMD extensions from a certificate's extension list (OID -> extnValue contents).
 * A present-but-malformed extension throws ERR_CERT_EXTENSION; absence is returned as null and
 * judged by the caller, which knows whether the certificate is a VCEK or a VLEK.
 */
export function decodeAmdExtensions(extensions: ReadonlyMap<string, Buffer>): AmdExtensions {
  const int = (oid: string, name: string): number | null => {
    const v = extensions.get(oid);
    return v === undefined ? null : decodeSmallInteger(v, name);
  };
  const hw = decodeHwId(extensions.get(AMD_OID.hwID));
  return {
    structVersion: int(AMD_OID.structVersion, 'structVersion'),
    productName: decodeIa5(extensions.get(AMD_OID.productName), 'productName'),
    blSPL: int(AMD_OID.blSPL, 'blSPL'),
    teeSPL: int(AMD_OID.teeSPL, 'teeSPL'),
    snpSPL: int(AMD_OID.snpSPL, 'snpSPL'),
    ucodeSPL: int(AMD_OID.ucodeSPL, 'ucodeSPL'),
    fmcSPL: int(AMD_OID.fmcSPL, 'fmcSPL'),
    hwID: hw?.value ?? null,
    hwIDEncoding: hw?.encoding ?? null,
    cspID: decodeIa5(extensions.get(AMD_OID.cspID), 'cspID'),
  };
}

/**
 * A DER INTEGER in 0..255 (SPLs and structVersion): `02 01 xx`, or `02 02 00 xx` for xx >= 0x80 (pitfall 19).
 * Anything else (other lengths, non-minimal or negative encodings, trailing bytes) is refused.
 */
function decodeSmallInteger(v: Buffer, name: string): number {
  const bad = (): never => {
    throw new AttestationError('ERR_CERT_EXTENSION', `AMD extension ${name} is not a DER INTEGER in 0..255 (${v.length} bytes)`);
  };
  if (v[0] !== 0x02) return bad();
  if (v.length === 3 && v[1] === 1 && v[2]! < 0x80) return v[2]!;
  if (v.length === 4 && v[1] === 2 && v[2] === 0 && v[3]! >= 0x80) return v[3]!;
  return bad();
}

function decodeIa5(v: Buffer | undefined, name: string): string | null {
  if (v === undefined) return null;
  const len = v[1] ?? 0;
  if (v[0] !== 0x16 || len >= 0x80 || v.length !== 2 + len) {
    throw new AttestationError('ERR_CERT_EXTENSION', `AMD extension ${name} is not a short DER IA5String`);
  }
  const body = v.subarray(2);
  if (body.some((b) => b > 0x7e || b < 0x20)) {
    throw new AttestationError('ERR_CERT_EXTENSION', `AMD extension ${name} holds non-printable characters`);
  }
  return body.toString('ascii');
}

/**
 * hwID is raw bytes without a DER tag (64, or 8 on Turin); AMD once announced a DER OCTET STRING form.
 * The form is decided by exact length, never by sniffing the first byte: a chip id may start with 0x04
 * (pitfall 18).
 */
function decodeHwId(v: Buffer | undefined): { value: Buffer; encoding: 'raw' | 'octet-string' } | null {
  if (v === undefined) return null;
  for (const len of [64, 8]) {
    if (v.length === len) return { value: Buffer.from(v), encoding: 'raw' };
    if (v.length === len + 2 && v[0] === 0x04 && v[1] === len) return { value: Buffer.from(v.subarray(2)), encoding: 'octet-string' };
  }
  throw new AttestationError('ERR_CERT_EXTENSION', `AMD extension hwID is ${v.length} bytes; expected 64 (Milan/Genoa) or 8 (Turin), raw or as a DER OCTET STRING`);
}

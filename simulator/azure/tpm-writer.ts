import { type KeyObject, createHash } from 'node:crypto';
import { TPM_ALG, TPM_GENERATED_VALUE, TPM_ST_ATTEST_CERTIFY, TPM_ST_ATTEST_QUOTE, type TpmHashName } from '../../attestation/azure/tpm-constants.js';
import type { TpmsClockInfo } from '../../attestation/azure/tpm-structures.js';

/** Big-endian TPM marshalling (TPM 2.0 Library Part 2), the inverse of attestation/azure/tpm-reader.ts. */
class TpmWriter {
  private readonly parts: Buffer[] = [];

  u8(v: number): this {
    return this.push(Buffer.from([v]));
  }

  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return this.push(b);
  }

  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    return this.push(b);
  }

  tpm2b(bytes: Uint8Array): this {
    return this.u16(bytes.length).push(Buffer.from(bytes));
  }

  push(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** One bank of a quote's PCR selection. */
export interface PcrSelectionSpec {
  readonly hash: TpmHashName;
  readonly pcrs: readonly number[];
}

export interface QuoteAttestFields {
  readonly qualifiedSigner: Uint8Array;
  readonly extraData: Uint8Array;
  readonly clockInfo: TpmsClockInfo;
  readonly firmwareVersion: bigint;
  readonly selection: readonly PcrSelectionSpec[];
  readonly pcrDigest: Uint8Array;
}

/** TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE, byte for byte what TPM2_Quote signs. */
export function encodeQuoteAttest(f: QuoteAttestFields): Buffer {
  const w = new TpmWriter().u32(TPM_GENERATED_VALUE).u16(TPM_ST_ATTEST_QUOTE).tpm2b(f.qualifiedSigner).tpm2b(f.extraData);
  w.u64(f.clockInfo.clock).u32(f.clockInfo.resetCount).u32(f.clockInfo.restartCount).u8(f.clockInfo.safe ? 1 : 0);
  w.u64(f.firmwareVersion).u32(f.selection.length);
  for (const s of f.selection) w.u16(TPM_ALG[s.hash]).push(selectBitmap(s.pcrs));
  return w.tpm2b(f.pcrDigest).done();
}

/** sizeofSelect then the TPMS_PCR_SELECT bitmap: at least PCR_SELECT_MIN (3) bytes, as a 24-PCR TPM writes it. */
function selectBitmap(pcrs: readonly number[]): Buffer {
  const size = Math.max(3, Math.floor(Math.max(-1, ...pcrs) / 8) + 1);
  const bitmap = Buffer.alloc(size);
  for (const i of pcrs) bitmap[i >> 3] = (bitmap[i >> 3] ?? 0) | (1 << (i & 7));
  return Buffer.concat([Buffer.from([size]), bitmap]);
}

/** TPMT_SIGNATURE for RSASSA: sigAlg, hash, TPM2B_PUBLIC_KEY_RSA. */
export function encodeRsassaSignature(hash: TpmHashName, sig: Uint8Array): Buffer {
  return new TpmWriter().u16(TPM_ALG.rsassa).u16(TPM_ALG[hash]).tpm2b(sig).done();
}

/** fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | sign: a restricted signing key (an AK). */
export const AK_ATTRIBUTES = 0x00050072;
/** fixedTPM | fixedParent | sensitiveDataOrigin | noDA | decrypt: Microsoft's ephemeral key (no userWithAuth: policy only). */
export const EPHEMERAL_KEY_ATTRIBUTES = 0x00020432;
const TPM_ALG_RSA = 0x0001;

export interface RsaPublicFields {
  readonly key: KeyObject;
  readonly attributes: number;
  readonly authPolicy?: Uint8Array;
  /** RSASSA/SHA-256 for an AK; none (TPM_ALG_NULL) for a decryption key. */
  readonly rsassaSha256?: boolean;
}

/** TPMT_PUBLIC of an RSA key, nameAlg SHA-256, no symmetric part, default exponent (Part 2 "TPMT_PUBLIC"). */
export function encodeRsaTpmtPublic(f: RsaPublicFields): Buffer {
  const n = Buffer.from(f.key.export({ format: 'jwk' }).n ?? '', 'base64url');
  const w = new TpmWriter().u16(TPM_ALG_RSA).u16(TPM_ALG.sha256).u32(f.attributes).tpm2b(f.authPolicy ?? Buffer.alloc(0)).u16(TPM_ALG.null);
  if (f.rsassaSha256) w.u16(TPM_ALG.rsassa).u16(TPM_ALG.sha256);
  else w.u16(TPM_ALG.null);
  return w.u16(n.length * 8).u32(0).tpm2b(n).done();
}

/** TPM2B_PUBLIC: what `tpm2_readpublic -o` writes. */
export function encodeRsaTpm2bPublic(f: RsaPublicFields): Buffer {
  return new TpmWriter().tpm2b(encodeRsaTpmtPublic(f)).done();
}

/** A TPM Name: nameAlg (SHA-256) || H(TPMT_PUBLIC) (Part 1 "Names"). */
export function tpmName(tpmtPublic: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x00, 0x0b]), createHash('sha256').update(tpmtPublic).digest()]);
}

/** The AK's TPM Name: an RSA restricted signing key with the RSASSA/SHA-256 scheme. */
export function rsaAkName(ak: KeyObject): Buffer {
  return tpmName(encodeRsaTpmtPublic({ key: ak, attributes: AK_ATTRIBUTES, rsassaSha256: true }));
}

export interface CertifyAttestFields {
  readonly qualifiedSigner: Uint8Array;
  readonly extraData: Uint8Array;
  readonly clockInfo: TpmsClockInfo;
  readonly firmwareVersion: bigint;
  readonly name: Uint8Array;
  readonly qualifiedName: Uint8Array;
}

/** TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY, byte for byte what TPM2_Certify signs. */
export function encodeCertifyAttest(f: CertifyAttestFields): Buffer {
  const w = new TpmWriter().u32(TPM_GENERATED_VALUE).u16(TPM_ST_ATTEST_CERTIFY).tpm2b(f.qualifiedSigner).tpm2b(f.extraData);
  w.u64(f.clockInfo.clock).u32(f.clockInfo.resetCount).u32(f.clockInfo.restartCount).u8(f.clockInfo.safe ? 1 : 0);
  return w.u64(f.firmwareVersion).tpm2b(f.name).tpm2b(f.qualifiedName).done();
}

import { AttestationError } from '../errors.js';
import { type Product, isProduct } from '../snp/product.js';
import { type Tcb, usesTurinLayout } from '../snp/tcb.js';

/** AMD Key Distribution Service (shared/docs/snp-evidence.md §9.5). */
export const KDS_BASE_URL = 'https://kdsintf.amd.com';

/** Which AMD signing-key family a chain or CRL belongs to: VCEK (ARK→ASK) or VLEK (ARK→ASVK). */
export type EndorsementKind = 'VCEK' | 'VLEK';

const CHIP_ID_BYTES = 64;
/** Turin KDS keys VCEKs by the first 8 bytes of CHIP_ID only (pitfall 6). */
const TURIN_HWID_BYTES = 8;

/**
 * URL of the VCEK for one chip at one REPORTED_TCB (never CURRENT_TCB: pitfall 1).
 * Milan/Genoa use the full 64-byte CHIP_ID; Turin uses its first 8 bytes and adds `fmcSPL`.
 * Throws ERR_SNP_CHIP_ID_MASKED for an all-zero CHIP_ID (MASK_CHIP_ID: KDS can only answer 404)
 * and ERR_INPUT for malformed arguments.
 */
export function vcekUrl(base: string, product: Product, chipId: Uint8Array, tcb: Tcb): string {
  const root = normalizeBase(base);
  const p = checkProduct(product);
  const hwId = kdsHwId(p, chipId);
  const spl = (name: string, value: number | undefined): string => `${name}=${checkSpl(name, value)}`;
  const query = [spl('blSPL', tcb.bootloader), spl('teeSPL', tcb.tee), spl('snpSPL', tcb.snp), spl('ucodeSPL', tcb.microcode)];
  if (usesTurinLayout(p)) query.unshift(spl('fmcSPL', tcb.fmc));
  return `${root}/vcek/v1/${p}/${hwId}?${query.join('&')}`;
}

/** URL of the PEM bundle "intermediate then ARK": ASK+ARK for VCEK, ASVK+ARK for VLEK. */
export function certChainUrl(base: string, product: Product, kind: EndorsementKind): string {
  return `${normalizeBase(base)}/${kindPath(kind)}/v1/${checkProduct(product)}/cert_chain`;
}

/** URL of the ARK-signed DER CRL; the same URL is the CRL distribution point inside ASK/ASVK/ARK. */
export function crlUrl(base: string, product: Product, kind: EndorsementKind): string {
  return `${normalizeBase(base)}/${kindPath(kind)}/v1/${checkProduct(product)}/crl`;
}

/**
 * The hwID KDS expects, as lower-case hex: all 64 bytes of CHIP_ID on Milan/Genoa, the first 8 on Turin.
 * Exported because the disk cache keys VCEKs by it.
 */
export function kdsHwId(product: Product, chipId: Uint8Array): string {
  if (chipId.length !== CHIP_ID_BYTES) {
    throw new AttestationError('ERR_INPUT', `CHIP_ID is ${chipId.length} bytes; expected ${CHIP_ID_BYTES}`);
  }
  if (chipId.every((b) => b === 0)) {
    throw new AttestationError(
      'ERR_SNP_CHIP_ID_MASKED',
      'CHIP_ID is all zero (MASK_CHIP_ID): the VCEK cannot be fetched from AMD KDS; supply it with the evidence',
    );
  }
  if (!usesTurinLayout(product)) return Buffer.from(chipId).toString('hex');
  if (!chipId.subarray(TURIN_HWID_BYTES).every((b) => b === 0)) {
    // A 64-byte id on Turin means the product guess is wrong; KDS would answer 404 after our retries.
    throw new AttestationError('ERR_INPUT', 'Turin CHIP_ID must have bytes 8..63 zero; is the product really Turin?');
  }
  return Buffer.from(chipId.subarray(0, TURIN_HWID_BYTES)).toString('hex');
}

function kindPath(kind: EndorsementKind): string {
  if (kind === 'VCEK') return 'vcek';
  if (kind === 'VLEK') return 'vlek';
  throw new AttestationError('ERR_INPUT', `unknown endorsement kind "${String(kind)}": expected VCEK or VLEK`);
}

function checkProduct(product: Product): Product {
  // Callers may come from untyped JSON; the product is a URL path segment, so never trust it unchecked.
  if (!isProduct(product)) throw new AttestationError('ERR_INPUT', `unknown product "${String(product)}"`);
  return product;
}

function checkSpl(name: string, value: number | undefined): number {
  if (value === undefined || !Number.isInteger(value) || value < 0 || value > 255) {
    throw new AttestationError('ERR_INPUT', `${name} must be an integer 0..255; got ${String(value)}`);
  }
  return value;
}

function normalizeBase(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch (cause) {
    throw new AttestationError('ERR_INPUT', 'KDS base URL is not a URL', { cause });
  }
  if (url.username !== '' || url.password !== '') {
    // URLs end up in error messages and progress events; credentials must not.
    throw new AttestationError('ERR_INPUT', 'KDS base URL must not carry credentials');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new AttestationError('ERR_INPUT', `KDS base URL "${base}" must be http(s) without query or fragment`);
  }
  return url.href.replace(/\/+$/, '');
}

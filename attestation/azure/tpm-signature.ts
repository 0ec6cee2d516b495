import { type KeyObject, constants, verify } from 'node:crypto';
import { TPM_ALG, type TpmHashName, hashFromAlg } from './tpm-constants.js';
import { TpmReader } from './tpm-reader.js';

/** A quote signature: TPMS_SIGNATURE_RSA (RSASSA, RSAPSS) or TPMS_SIGNATURE_ECC (ECDSA), Part 2 "TPMT_SIGNATURE". */
export type TpmSignature =
  | { readonly scheme: 'rsassa' | 'rsapss'; readonly hash: TpmHashName; readonly sig: Buffer }
  | { readonly scheme: 'ecdsa'; readonly hash: TpmHashName; readonly r: Buffer; readonly s: Buffer };

/** TPM2B_PUBLIC_KEY_RSA holds up to MAX_RSA_KEY_BYTES; 1024 covers RSA-8192. ECC parameters up to P-521. */
const MAX_RSA_SIG = 1024;
const MAX_ECC_PARAM = 66;

/**
 * Parses a marshalled TPMT_SIGNATURE: sigAlg (u16), then for RSASSA/RSAPSS {hash, TPM2B sig} and for ECDSA
 * {hash, TPM2B r, TPM2B s}. SHA-1 signatures are refused. Throws ERR_TPM_SIGNATURE_MALFORMED.
 */
export function parseTpmtSignature(input: Uint8Array): TpmSignature {
  // Explicitly typed so that TypeScript sees r.fail() as never-returning.
  const r: TpmReader = new TpmReader(Buffer.from(input), 'ERR_TPM_SIGNATURE_MALFORMED', 'TPMT_SIGNATURE');
  const sigAlg = r.u16('sigAlg');
  const hash = readHash(r);
  let out: TpmSignature;
  if (sigAlg === TPM_ALG.rsassa || sigAlg === TPM_ALG.rsapss) {
    out = { scheme: sigAlg === TPM_ALG.rsassa ? 'rsassa' : 'rsapss', hash, sig: r.tpm2b('sig', MAX_RSA_SIG) };
  } else if (sigAlg === TPM_ALG.ecdsa) {
    out = { scheme: 'ecdsa', hash, r: r.tpm2b('signatureR', MAX_ECC_PARAM), s: r.tpm2b('signatureS', MAX_ECC_PARAM) };
  } else {
    r.fail(`sigAlg 0x${sigAlg.toString(16).padStart(4, '0')} is not RSASSA (0x0014), RSAPSS (0x0016) or ECDSA (0x0018)`);
  }
  r.end();
  return out;
}

function readHash(r: TpmReader): TpmHashName {
  const alg = r.u16('hash');
  const hash = hashFromAlg(alg);
  if (!hash) r.fail(`hash algorithm 0x${alg.toString(16).padStart(4, '0')} is not SHA-256/384/512`);
  if (hash === 'sha1') r.fail('SHA-1 quote signatures are not accepted');
  return hash;
}

/**
 * The signature of a quote as tools hand it over: a TPMT_SIGNATURE (tpm2_quote -s), or the bare RSASSA
 * signature bytes that trustee's and az-cvm-vtpm's evidence carry. The two never collide: a bare signature
 * is exactly the modulus length, a TPMT_SIGNATURE of that key is 6 bytes longer.
 */
export function decodeQuoteSignature(bytes: Uint8Array, ak: KeyObject): TpmSignature {
  const modulusBytes = Math.ceil((ak.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (ak.asymmetricKeyType === 'rsa' && bytes.length === modulusBytes) return { scheme: 'rsassa', hash: 'sha256', sig: Buffer.from(bytes) };
  return parseTpmtSignature(bytes);
}

/** Verifies `signature` over the TPMS_ATTEST bytes; a key of the wrong type simply does not verify. */
export function verifyTpmSignature(message: Uint8Array, signature: TpmSignature, key: KeyObject): boolean {
  try {
    if (signature.scheme === 'ecdsa') return verifyEcdsa(message, signature, key);
    if (key.asymmetricKeyType !== 'rsa') return false;
    const padding = signature.scheme === 'rsapss' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO } : {};
    return verify(signature.hash, message, { key, ...padding }, signature.sig);
  } catch {
    return false;
  }
}

const CURVE_BYTES: Readonly<Record<string, number>> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };

function verifyEcdsa(message: Uint8Array, signature: Extract<TpmSignature, { scheme: 'ecdsa' }>, key: KeyObject): boolean {
  const size = CURVE_BYTES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || !size || signature.r.length > size || signature.s.length > size) return false;
  const p1363 = Buffer.alloc(2 * size);
  signature.r.copy(p1363, size - signature.r.length);
  signature.s.copy(p1363, 2 * size - signature.s.length);
  return verify(signature.hash, message, { key, dsaEncoding: 'ieee-p1363' }, p1363);
}

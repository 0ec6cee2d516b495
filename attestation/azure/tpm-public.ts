import { type KeyObject, createHash, createPublicKey } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { DIGEST_LENGTH, TPM_ALG, TPMU_HA_SIZE, type TpmHashName, hashFromAlg } from './tpm-constants.js';
import { TpmReader } from './tpm-reader.js';

/** The TPMA_OBJECT bits (Part 2 "TPMA_OBJECT") a verifier decides on, decoded from `objectAttributes`. */
export interface TpmaObject {
  readonly fixedTPM: boolean;
  readonly stClear: boolean;
  readonly fixedParent: boolean;
  readonly sensitiveDataOrigin: boolean;
  readonly userWithAuth: boolean;
  readonly adminWithPolicy: boolean;
  readonly noDA: boolean;
  readonly encryptedDuplication: boolean;
  readonly restricted: boolean;
  readonly decrypt: boolean;
  readonly sign: boolean;
}

/** TPMS_RSA_PARMS and the modulus from TPMU_PUBLIC_ID. Algorithms stay TPM_ALG_ID numbers (TPM_ALG). */
export interface TpmRsaPublic {
  /** TPMT_SYM_DEF_OBJECT.algorithm: TPM_ALG_NULL (0x0010) except for storage parents. */
  readonly symmetric: number;
  /** TPMT_RSA_SCHEME.scheme, e.g. TPM_ALG_NULL, RSASSA (0x0014), RSAPSS (0x0016). */
  readonly scheme: number;
  /** The scheme's hash algorithm; null when the scheme carries none (NULL, RSAES). */
  readonly schemeHash: number | null;
  readonly keyBits: number;
  /** The public exponent, with the TPM's 0 already read as its default 65537. */
  readonly exponent: number;
  readonly modulus: Buffer;
}

/** A parsed TPM2B_PUBLIC of an RSA key, its TPM Name and the key as node can verify with. */
export interface TpmPublic {
  /** The marshalled TPMT_PUBLIC (without the TPM2B size): the bytes the Name hashes. */
  readonly raw: Buffer;
  readonly type: 'rsa';
  readonly nameAlg: TpmHashName;
  readonly objectAttributes: number;
  readonly attributes: TpmaObject;
  readonly authPolicy: Buffer;
  readonly rsa: TpmRsaPublic;
  /** TPM2B_NAME contents: nameAlg (u16) || H_nameAlg(raw) (Part 1 "Names"). */
  readonly name: Buffer;
  readonly key: KeyObject;
}

/** Bits 0, 3, 8-9, 12-15 and 20-31 are reserved; a TPM refuses a template that sets them (bit 19 is x509sign). */
const RESERVED_ATTRIBUTES = 0xfff0f309;
/** TPM2B_PUBLIC_KEY_RSA holds MAX_RSA_KEY_BYTES; 1024 covers RSA-8192. */
const MAX_RSA_KEY_BYTES = 1024;
const DEFAULT_EXPONENT = 65537;

function malformed(message: string): never {
  throw new AttestationError('ERR_TPM_PUBLIC_MALFORMED', message);
}

function unsupported(message: string): never {
  throw new AttestationError('ERR_TPM_PUBLIC_UNSUPPORTED', message);
}

/**
 * Parses a marshalled TPM2B_PUBLIC (tpm2_readpublic -o, TPM2_ReadPublic's outPublic): u16 size, then a
 * TPMT_PUBLIC of exactly that size and nothing after it. Only RSA keys are supported.
 * Throws ERR_TPM_PUBLIC_MALFORMED or ERR_TPM_PUBLIC_UNSUPPORTED.
 */
export function parseTpm2bPublic(input: Uint8Array): TpmPublic {
  const r: TpmReader = new TpmReader(Buffer.from(input), 'ERR_TPM_PUBLIC_MALFORMED', 'TPM2B_PUBLIC');
  const raw = r.tpm2b('publicArea', 0xffff);
  r.end();
  if (raw.length === 0) malformed('TPM2B_PUBLIC: the public area is empty');
  return parseTpmtPublic(raw);
}

/** Parses a bare marshalled TPMT_PUBLIC (Part 2 "TPMT_PUBLIC"), e.g. the contents of a TPM2B_PUBLIC. */
export function parseTpmtPublic(input: Uint8Array): TpmPublic {
  const raw = Buffer.from(input);
  const r: TpmReader = new TpmReader(raw, 'ERR_TPM_PUBLIC_MALFORMED', 'TPMT_PUBLIC');
  const type = r.u16('type');
  if (type !== TPM_ALG.rsa) unsupported(`TPMT_PUBLIC type is 0x${hex16(type)}; only RSA (0x0001) keys are supported`);
  const nameAlg = readNameAlg(r);
  const objectAttributes = r.u32('objectAttributes');
  if (objectAttributes & RESERVED_ATTRIBUTES) r.fail(`objectAttributes 0x${objectAttributes.toString(16)} sets reserved bits`);
  const authPolicy = r.tpm2b('authPolicy', TPMU_HA_SIZE);
  // Part 3 TPM2_Create: a policy is either absent or a digest of the object's nameAlg.
  if (authPolicy.length !== 0 && authPolicy.length !== DIGEST_LENGTH[nameAlg]) r.fail(`authPolicy is ${authPolicy.length} bytes; ${nameAlg} digests are ${DIGEST_LENGTH[nameAlg]}`);
  const rsa = readRsa(r);
  r.end();
  const attributes = decodeAttributes(objectAttributes);
  return { raw, type: 'rsa', nameAlg, objectAttributes, attributes, authPolicy, rsa, name: tpmObjectName(nameAlg, raw), key: rsaKey(rsa) };
}

/** The TPM Name of an object: nameAlg as u16 || H_nameAlg(TPMT_PUBLIC) (Part 1 "Names"), as TPM2B_NAME carries it. */
export function tpmObjectName(nameAlg: TpmHashName, tpmtPublic: Uint8Array): Buffer {
  const alg = Buffer.alloc(2);
  alg.writeUInt16BE(TPM_ALG[nameAlg]);
  return Buffer.concat([alg, createHash(nameAlg).update(tpmtPublic).digest()]);
}

function readNameAlg(r: TpmReader): TpmHashName {
  const alg = r.u16('nameAlg');
  const hash = hashFromAlg(alg);
  // TPM_ALG_NULL names an object by its handle, which is no identity a verifier can check.
  if (!hash) unsupported(`TPMT_PUBLIC nameAlg is 0x${hex16(alg)}; only SHA-1/256/384/512 names are supported`);
  return hash;
}

function readRsa(r: TpmReader): TpmRsaPublic {
  const symmetric = r.u16('parameters.symmetric.algorithm');
  if (symmetric !== TPM_ALG.null) {
    r.u16('parameters.symmetric.keyBits');
    r.u16('parameters.symmetric.mode');
  }
  const scheme = r.u16('parameters.scheme.scheme');
  // TPMU_ASYM_SCHEME: NULL and RSAES carry no details; every other RSA scheme carries a hash algorithm.
  const schemeHash = scheme === TPM_ALG.null || scheme === TPM_ALG.rsaes ? null : r.u16('parameters.scheme.hashAlg');
  const keyBits = r.u16('parameters.keyBits');
  const exponent = r.u32('parameters.exponent') || DEFAULT_EXPONENT;
  const modulus = r.tpm2b('unique.rsa', MAX_RSA_KEY_BYTES);
  if (keyBits === 0 || modulus.length * 8 !== keyBits) r.fail(`the modulus is ${modulus.length} bytes but keyBits is ${keyBits}`);
  if (exponent < 3 || exponent % 2 === 0) r.fail(`the public exponent ${exponent} is not an odd number of at least 3`);
  return { symmetric, scheme, schemeHash, keyBits, exponent, modulus };
}

/** TPMA_OBJECT bit positions from Part 2; bit 19 (x509sign) is left out as no verifier here relies on it. */
function decodeAttributes(bits: number): TpmaObject {
  const has = (bit: number): boolean => (bits & (1 << bit)) !== 0;
  return {
    fixedTPM: has(1),
    stClear: has(2),
    fixedParent: has(4),
    sensitiveDataOrigin: has(5),
    userWithAuth: has(6),
    adminWithPolicy: has(7),
    noDA: has(10),
    encryptedDuplication: has(11),
    restricted: has(16),
    decrypt: has(17),
    sign: has(18),
  };
}

function rsaKey({ modulus, exponent }: TpmRsaPublic): KeyObject {
  const e = Buffer.alloc(4);
  e.writeUInt32BE(exponent);
  const jwk = { kty: 'RSA', n: modulus.toString('base64url'), e: e.subarray(e.findIndex((b) => b !== 0)).toString('base64url') };
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new AttestationError('ERR_TPM_PUBLIC_MALFORMED', 'TPMT_PUBLIC: node cannot import the RSA public key (modulus or exponent invalid)', { cause });
  }
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * TPM 2.0 constants used by quotes, certifications and public areas, from the TCG "TPM 2.0 Library, Part 2:
 * Structures" tables TPM_GENERATED, TPM_ALG_ID and TPM_ST. Every TPM structure is marshalled big-endian.
 */
export const TPM_GENERATED_VALUE = 0xff544347;
export const TPM_ST_ATTEST_CERTIFY = 0x8017;
export const TPM_ST_ATTEST_QUOTE = 0x8018;

export const TPM_ALG = {
  rsa: 0x0001,
  sha1: 0x0004,
  sha256: 0x000b,
  sha384: 0x000c,
  sha512: 0x000d,
  null: 0x0010,
  rsassa: 0x0014,
  rsaes: 0x0015,
  rsapss: 0x0016,
  oaep: 0x0017,
  ecdsa: 0x0018,
  ecc: 0x0023,
} as const;

export type TpmHashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export const TPM_HASHES: readonly TpmHashName[] = ['sha1', 'sha256', 'sha384', 'sha512'];

export const DIGEST_LENGTH: Readonly<Record<TpmHashName, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export function hashFromAlg(alg: number): TpmHashName | null {
  return TPM_HASHES.find((h) => TPM_ALG[h] === alg) ?? null;
}

/** sizeof(TPMT_HA) = 2 + 64: the buffer size of TPM2B_DATA and of the largest TPMU_NAME (Part 2). */
export const TPMT_HA_SIZE = 66;
/** TPM2B_DIGEST holds at most sizeof(TPMU_HA) = 64 bytes (Part 2). */
export const TPMU_HA_SIZE = 64;

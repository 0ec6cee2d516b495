/**
 * The few TPM 2.0 operations the Azure vTPM evidence source needs. `Tpm2ToolsDevice` runs tpm2-tools; tests
 * may put a fake in front of it to alter what the TPM answered.
 */

/** Persistent handle of the Azure vTPM's attestation key (AK): the key `HCLAkPub` in the runtime claims. */
export const AZURE_AK_HANDLE = 0x81000003;
/** NV index holding the HCL report (the SNP report and the runtime claims), written by the paravisor. */
export const HCL_REPORT_NV_INDEX = 0x01400001;
/** NV index the guest writes 64 bytes of user data to; the paravisor mirrors them as the claims' `user-data`. */
export const USER_DATA_NV_INDEX = 0x01400002;
export const USER_DATA_SIZE = 64;

/** The PCR banks tpm2-tools can quote, with their digest sizes. */
export const PCR_BANKS = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 } as const;
export type PcrBank = keyof typeof PCR_BANKS;

/** PCRs of one bank, e.g. `{bank: "sha256", pcrs: [0, 1, 2]}`. */
export interface PcrSelection {
  readonly bank: PcrBank;
  /** PCR indices 0-23. */
  readonly pcrs: readonly number[];
}

/** What TPM2_Quote returns, as tpm2_quote writes it. */
export interface TpmQuoteOutput {
  /** TPMS_ATTEST (`tpm2_quote -m`). */
  readonly message: Buffer;
  /** TPMT_SIGNATURE (`tpm2_quote -s`, tss format). */
  readonly signature: Buffer;
  /** The values of the selected PCRs, read with the quote (`tpm2_quote -o`), by index. */
  readonly pcrs: ReadonlyMap<number, Buffer>;
}

/** The certified ephemeral key of MAA's AzureGuest flow, as the TPM produced it. */
export interface EphemeralKeyOutput {
  /** TPM2B_PUBLIC of the key (`tpm2_readpublic -o`, tss format). */
  readonly public: Buffer;
  /** TPMS_ATTEST of TPM2_Certify over the key by the AK, and the AK's bare RSASSA signature over it. */
  readonly certifyInfo: Buffer;
  readonly signature: Buffer;
}

/** AK certificate NV index of the Azure vTPM (Microsoft's vTPM CA issues it for the AK at 0x81000003). */
export const AK_CERT_NV_INDEX = 0x01c101d0;

export interface TpmDevice {
  /** Where the TPM is (its TCTI), for logs and /status. */
  readonly location: string;
  /** Writes `data` at offset 0 of an owner-authorised NV index, defining the index (of that size) when absent. */
  nvWrite(index: number, data: Uint8Array): Promise<void>;
  /** The whole contents of an owner-readable NV index. */
  nvRead(index: number): Promise<Buffer>;
  /** TPM2_Quote by the key at `akHandle` over `selection`, with `nonce` as qualifying data (at most 64 bytes; may be empty). */
  quote(akHandle: number, nonce: Uint8Array, selection: PcrSelection): Promise<TpmQuoteOutput>;
  /** The current values of the selected PCRs, by index. */
  pcrRead(selection: PcrSelection): Promise<ReadonlyMap<number, Buffer>>;
  /** TPM2B_PUBLIC of a loaded or persistent object (the AK). */
  readPublic(handle: number): Promise<Buffer>;
  /**
   * The ephemeral key of Microsoft's guest attestation (Tss2Util CreateEphemeralKey): RSA-2048, decrypt only,
   * fixedTPM, made in the null hierarchy from a fixed template whose authPolicy is PolicyPCR over the current
   * values of `selection`, so the same key comes back until reboot or a PCR changes; certified by `akHandle`.
   */
  ephemeralKey(akHandle: number, selection: PcrSelection): Promise<EphemeralKeyOutput>;
  /**
   * Decrypts with that key (re-created from the same template) in a PolicyPCR session: RSAES-PKCS1-v1_5
   * (`rsaes`, MAA's inner key) or RSA-OAEP with SHA-256 (`oaep`, Key Vault's RSA_AES_KEY_WRAP_256). Also
   * returns the key's TPM2B_PUBLIC, so the caller can tell a key that changed (a PCR moved) from bad input.
   */
  ephemeralDecrypt(selection: PcrSelection, ciphertext: Uint8Array, scheme: 'rsaes' | 'oaep'): Promise<{ plaintext: Buffer; public: Buffer }>;
}

/** `0x01400001`: how tpm2-tools and Azure's documentation write handles. */
export function handleHex(handle: number): string {
  return `0x${handle.toString(16).padStart(8, '0')}`;
}

/** `sha256:0,1,2`: tpm2-tools' PCR selection syntax; indices sorted and unique, as the TPM reports them. */
export function selectionArg(selection: PcrSelection): string {
  return `${selection.bank}:${sortedPcrs(selection).join(',')}`;
}

export function sortedPcrs(selection: PcrSelection): number[] {
  return [...new Set(selection.pcrs)].sort((a, b) => a - b);
}

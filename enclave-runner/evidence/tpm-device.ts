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

export interface TpmDevice {
  /** Where the TPM is (its TCTI), for logs and /status. */
  readonly location: string;
  /** Writes `data` at offset 0 of an owner-authorised NV index, defining the index (of that size) when absent. */
  nvWrite(index: number, data: Uint8Array): Promise<void>;
  /** The whole contents of an owner-readable NV index. */
  nvRead(index: number): Promise<Buffer>;
  /** TPM2_Quote by the key at `akHandle` over `selection`, with `nonce` as qualifying data (at most 64 bytes). */
  quote(akHandle: number, nonce: Uint8Array, selection: PcrSelection): Promise<TpmQuoteOutput>;
  /** The current values of the selected PCRs, by index. */
  pcrRead(selection: PcrSelection): Promise<ReadonlyMap<number, Buffer>>;
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

import { createHash } from 'node:crypto';
import { EFI_GLOBAL_VARIABLE_GUID, TCG_EV } from '../../attestation/azure/tcg-log.js';
import { DIGEST_LENGTH, TPM_ALG, type TpmHashName } from '../../attestation/azure/tpm-constants.js';

/** One event to log: what firmware measures (its digests are computed from `event`). */
export interface BootEvent {
  readonly pcrIndex: number;
  readonly eventType: number;
  readonly event: Buffer;
}

export interface WrittenTcgLog {
  /** The crypto-agile log, as /sys/kernel/security/tpm0/binary_bios_measurements holds it. */
  readonly log: Buffer;
  /** Per event (same order as the input), the digest logged for each bank: what a TPM was extended with. */
  readonly digests: ReadonlyArray<ReadonlyMap<TpmHashName, Buffer>>;
}

/** Little-endian, unlike every TPM structure: the log is written by firmware in the CPU's byte order. */
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}

function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
}

/**
 * A SIMULATED crypto-agile TCG event log (PC Client PFP): the legacy TCG_PCR_EVENT holding "Spec ID
 * Event03" for `banks`, then one TCG_PCR_EVENT2 per input event with digest H(event) in every bank. As the
 * PFP requires, EV_NO_ACTION events carry all-zero digests (they are never extended).
 */
export function writeTcgLog(events: readonly BootEvent[], banks: readonly TpmHashName[] = ['sha256']): WrittenTcgLog {
  const parts: Buffer[] = [specIdEvent(banks)];
  const digests = events.map((e) => eventDigests(e, banks));
  events.forEach((e, i) => {
    const values = [...digests[i]!].map(([hash, d]) => Buffer.concat([u16(TPM_ALG[hash]), d]));
    parts.push(u32(e.pcrIndex), u32(e.eventType), u32(values.length), ...values, u32(e.event.length), e.event);
  });
  return { log: Buffer.concat(parts), digests };
}

function eventDigests(e: BootEvent, banks: readonly TpmHashName[]): Map<TpmHashName, Buffer> {
  const digest = (hash: TpmHashName): Buffer => (e.eventType === TCG_EV.NO_ACTION ? Buffer.alloc(DIGEST_LENGTH[hash]) : createHash(hash).update(e.event).digest());
  return new Map(banks.map((hash) => [hash, digest(hash)]));
}

/** TCG_PCR_EVENT in PCR 0, EV_NO_ACTION, zero SHA-1 digest, with TCG_EfiSpecIDEvent: PFP 2.0, UINTN of 8 bytes, no vendor info. */
function specIdEvent(banks: readonly TpmHashName[]): Buffer {
  const algorithms = banks.map((hash) => Buffer.concat([u16(TPM_ALG[hash]), u16(DIGEST_LENGTH[hash])]));
  const platformClientClass = 0;
  const version = Buffer.from([0, 2, 0, 2]); // specVersionMinor 0, major 2, errata 0, uintnSize 2 (UINT64)
  const body = Buffer.concat([Buffer.from('Spec ID Event03\0', 'latin1'), u32(platformClientClass), version, u32(banks.length), ...algorithms, Buffer.from([0])]);
  return Buffer.concat([u32(0), u32(TCG_EV.NO_ACTION), Buffer.alloc(20), u32(body.length), body]);
}

/** TCG_EfiStartupLocalityEvent: the locality TPM2_Startup ran at, which starts PCR 0 at 0...0||locality. */
export function startupLocalityEvent(locality: number): BootEvent {
  return { pcrIndex: 0, eventType: TCG_EV.NO_ACTION, event: Buffer.concat([Buffer.from('StartupLocality\0', 'latin1'), Buffer.from([locality])]) };
}

/** UEFI_VARIABLE_DATA: GUID, UINT64 name length in CHAR16, UINT64 data length, UTF-16LE name, data. */
export function uefiVariableData(guid: Buffer, name: string, data: Buffer): Buffer {
  return Buffer.concat([guid, u64(name.length), u64(data.length), Buffer.from(name, 'utf16le'), data]);
}

/**
 * A small, plausible boot as firmware logs it: StartupLocality 0, the S-CRTM version in PCR 0, SecureBoot = 1
 * in PCR 7, and the EV_SEPARATOR (four zero bytes) that closes each of PCRs 0-7 before the OS loader runs.
 */
export function defaultBootEvents(): BootEvent[] {
  const separators = Array.from({ length: 8 }, (_, pcrIndex) => ({ pcrIndex, eventType: TCG_EV.SEPARATOR, event: Buffer.alloc(4) }));
  return [
    startupLocalityEvent(0),
    { pcrIndex: 0, eventType: TCG_EV.S_CRTM_VERSION, event: Buffer.from('SIMULATED 1.0\0', 'utf16le') },
    { pcrIndex: 7, eventType: TCG_EV.EFI_VARIABLE_DRIVER_CONFIG, event: uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'SecureBoot', Buffer.from([1])) },
    ...separators,
  ];
}

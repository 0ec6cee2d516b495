import { createHash } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { DIGEST_LENGTH, type TpmHashName, hashFromAlg } from './tpm-constants.js';

/** Event types from the TCG PC Client Platform Firmware Profile (PFP) "Events" table that this module reads. */
export const TCG_EV = {
  NO_ACTION: 0x00000003,
  SEPARATOR: 0x00000004,
  S_CRTM_VERSION: 0x00000008,
  EFI_VARIABLE_DRIVER_CONFIG: 0x80000001,
} as const;

/** EFI_GLOBAL_VARIABLE {8BE4DF61-93CA-11D2-AA0D-00E098032B8C} in its on-disk (mixed-endian) byte order. */
export const EFI_GLOBAL_VARIABLE_GUID: Buffer = Buffer.from('61dfe48bca93d211aa0d00e098032b8c', 'hex');

/** Hard limits: a firmware log is a few hundred events and tens of KiB; far larger input is not a boot log. */
export const TCG_LOG_LIMITS = { maxBytes: 16 * 1024 * 1024, maxEvents: 65536, maxEventBytes: 1024 * 1024, maxAlgorithms: 16 } as const;

/** One entry of TCG_EfiSpecIDEvent.digestSizes; `hash` is null for algorithms this verifier does not hash (e.g. SM3). */
export interface TcgSpecIdAlgorithm {
  readonly algorithmId: number;
  readonly digestSize: number;
  readonly hash: TpmHashName | null;
}

/** TCG_EfiSpecIDEvent (PFP "Specification ID Version Event"), carried by the log's first, legacy-format event. */
export interface TcgSpecId {
  readonly platformClass: number;
  readonly specVersionMinor: number;
  readonly specVersionMajor: number;
  readonly specErrata: number;
  readonly uintnSize: number;
  readonly algorithms: readonly TcgSpecIdAlgorithm[];
  readonly vendorInfo: Buffer;
}

/** One TCG_PCR_EVENT2. Digests of algorithms without a TpmHashName are skipped. */
export interface TcgEvent {
  readonly pcrIndex: number;
  readonly eventType: number;
  readonly digests: ReadonlyMap<TpmHashName, Buffer>;
  readonly event: Buffer;
}

export interface TcgLog {
  readonly specId: TcgSpecId;
  readonly events: readonly TcgEvent[];
}

/** A UEFI_VARIABLE_DATA (PFP "UEFI_VARIABLE_DATA"): what EV_EFI_VARIABLE_* events measure. */
export interface UefiVariableData {
  readonly guid: Buffer;
  readonly name: string;
  readonly data: Buffer;
}

const SPEC_ID_SIGNATURE = Buffer.from('Spec ID Event03\0', 'latin1');
const STARTUP_LOCALITY_SIGNATURE = Buffer.from('StartupLocality\0', 'latin1');
const LEGACY_DIGEST_BYTES = 20;
/** The PC Client platform has 24 PCRs; firmware cannot have extended any other. */
const PCR_COUNT = 24;

/** A bounds-checked little-endian cursor: unlike TPM structures, the event log is in the CPU's byte order. */
class LeReader {
  private offset = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  u8(field: string): number {
    return this.take(1, field).readUInt8(0);
  }

  u16(field: string): number {
    return this.take(2, field).readUInt16LE(0);
  }

  u32(field: string): number {
    return this.take(4, field).readUInt32LE(0);
  }

  /** A UINT64 length: anything beyond the input cannot be honoured, so it is capped at a safe integer. */
  u64(field: string): number {
    const v = this.take(8, field).readBigUInt64LE(0);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }

  bytes(length: number, field: string): Buffer {
    return Buffer.from(this.take(length, field));
  }

  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} unexpected bytes after the end`);
  }

  fail(message: string): never {
    throw new AttestationError('ERR_TCG_LOG_MALFORMED', `${this.what}: ${message}`);
  }

  private take(length: number, field: string): Buffer {
    if (length > this.remaining) this.fail(`truncated in ${field} (needs ${length} bytes at offset ${this.offset}, ${this.remaining} left)`);
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

function unsupported(message: string): never {
  throw new AttestationError('ERR_TCG_LOG_UNSUPPORTED', `TCG event log: ${message}`);
}

/**
 * Parses a crypto-agile TCG event log (/sys/kernel/security/tpm0/binary_bios_measurements): the legacy
 * TCG_PCR_EVENT carrying "Spec ID Event03", then TCG_PCR_EVENT2 entries until the end of the input.
 * Throws ERR_TCG_LOG_MALFORMED, or ERR_TCG_LOG_UNSUPPORTED for a SHA-1-only (pre-crypto-agile) log.
 */
export function parseTcgLog(bytes: Uint8Array): TcgLog {
  if (bytes.length > TCG_LOG_LIMITS.maxBytes) {
    throw new AttestationError('ERR_TCG_LOG_MALFORMED', `TCG event log: ${bytes.length} bytes is more than the ${TCG_LOG_LIMITS.maxBytes} a firmware log can be`);
  }
  const r: LeReader = new LeReader(Buffer.from(bytes), 'TCG event log');
  const specId = readSpecIdEvent(r);
  const events: TcgEvent[] = [];
  while (r.remaining > 0) {
    if (events.length === TCG_LOG_LIMITS.maxEvents) r.fail(`more than ${TCG_LOG_LIMITS.maxEvents} events`);
    events.push(readEvent2(r, specId, events.length));
  }
  return { specId, events };
}

/** The first event: TCG_PCR_EVENT {pcrIndex, eventType, SHA-1 digest, eventSize, event}, holding TCG_EfiSpecIDEvent. */
function readSpecIdEvent(r: LeReader): TcgSpecId {
  r.u32('event[0].pcrIndex');
  const eventType = r.u32('event[0].eventType');
  r.bytes(LEGACY_DIGEST_BYTES, 'event[0].digest');
  const event = r.bytes(readEventSize(r, 'event[0].eventSize'), 'event[0].event');
  if (eventType !== TCG_EV.NO_ACTION || !event.subarray(0, SPEC_ID_SIGNATURE.length).equals(SPEC_ID_SIGNATURE)) {
    unsupported('the first event is not the "Spec ID Event03" header of a crypto-agile log; SHA-1-only logs are not supported');
  }
  return parseSpecId(event);
}

function parseSpecId(event: Buffer): TcgSpecId {
  const r: LeReader = new LeReader(event, 'TCG event log: Spec ID event');
  r.bytes(SPEC_ID_SIGNATURE.length, 'signature');
  const platformClass = r.u32('platformClass');
  const specVersionMinor = r.u8('specVersionMinor');
  const specVersionMajor = r.u8('specVersionMajor');
  const specErrata = r.u8('specErrata');
  const uintnSize = r.u8('uintnSize');
  const count = r.u32('numberOfAlgorithms');
  if (count === 0 || count > TCG_LOG_LIMITS.maxAlgorithms) r.fail(`numberOfAlgorithms is ${count}; expected 1..${TCG_LOG_LIMITS.maxAlgorithms}`);
  const algorithms: TcgSpecIdAlgorithm[] = [];
  for (let i = 0; i < count; i++) algorithms.push(readSpecIdAlgorithm(r, i, algorithms));
  const vendorInfo = r.bytes(r.u8('vendorInfoSize'), 'vendorInfo');
  r.end();
  return { platformClass, specVersionMinor, specVersionMajor, specErrata, uintnSize, algorithms, vendorInfo };
}

function readSpecIdAlgorithm(r: LeReader, i: number, seen: readonly TcgSpecIdAlgorithm[]): TcgSpecIdAlgorithm {
  const algorithmId = r.u16(`digestSizes[${i}].algorithmId`);
  const digestSize = r.u16(`digestSizes[${i}].digestSize`);
  const hash = hashFromAlg(algorithmId);
  if (seen.some((a) => a.algorithmId === algorithmId)) r.fail(`algorithm 0x${hex16(algorithmId)} is listed twice`);
  if (hash && digestSize !== DIGEST_LENGTH[hash]) r.fail(`${hash} is listed with ${digestSize}-byte digests, not ${DIGEST_LENGTH[hash]}`);
  if (digestSize === 0 || digestSize > 64) r.fail(`algorithm 0x${hex16(algorithmId)} has a digest size of ${digestSize}`);
  return { algorithmId, digestSize, hash };
}

/** TCG_PCR_EVENT2: pcrIndex, eventType, TPML_DIGEST_VALUES (sizes from the Spec ID event), eventSize, event. */
function readEvent2(r: LeReader, specId: TcgSpecId, n: number): TcgEvent {
  const at = `event[${n + 1}]`;
  const pcrIndex = r.u32(`${at}.pcrIndex`);
  if (pcrIndex >= PCR_COUNT) r.fail(`${at} is for PCR ${pcrIndex}; the platform has PCRs 0..${PCR_COUNT - 1}`);
  const eventType = r.u32(`${at}.eventType`);
  const count = r.u32(`${at}.digests.count`);
  if (count > specId.algorithms.length) r.fail(`${at} has ${count} digests; the Spec ID event lists ${specId.algorithms.length} algorithms`);
  const digests = new Map<TpmHashName, Buffer>();
  const algs = new Set<number>();
  for (let i = 0; i < count; i++) {
    const alg = r.u16(`${at}.digests[${i}].hashAlg`);
    const spec = specId.algorithms.find((a) => a.algorithmId === alg);
    if (!spec) r.fail(`${at} has a digest of algorithm 0x${hex16(alg)}, which the Spec ID event does not list`);
    if (algs.has(alg)) r.fail(`${at} has two digests of algorithm 0x${hex16(alg)}`);
    algs.add(alg);
    const digest = r.bytes(spec.digestSize, `${at}.digests[${i}].digest`);
    if (spec.hash) digests.set(spec.hash, digest);
  }
  const event = r.bytes(readEventSize(r, `${at}.eventSize`), `${at}.event`);
  return { pcrIndex, eventType, digests, event };
}

function readEventSize(r: LeReader, field: string): number {
  const size = r.u32(field);
  if (size > TCG_LOG_LIMITS.maxEventBytes) r.fail(`${field} is ${size} bytes; at most ${TCG_LOG_LIMITS.maxEventBytes} are accepted`);
  return size;
}

/**
 * Replays the log into the PCR values of one bank: PCR := H(PCR || digest) from all-zero PCRs, skipping
 * EV_NO_ACTION events (never extended), with PCR 0 starting at the locality a StartupLocality event names.
 * Returns every PCR the log touches. Throws ERR_TCG_LOG_UNSUPPORTED when the log has no such bank and
 * ERR_TCG_LOG_MALFORMED when a measured event lacks that bank's digest.
 */
export function replayTcgLog(log: TcgLog, bank: TpmHashName): Map<number, Buffer> {
  if (!log.specId.algorithms.some((a) => a.hash === bank)) unsupported(`the log carries no ${bank} digests`);
  const pcrs = new Map<number, Buffer>();
  const locality = startupLocality(log);
  if (locality !== null) pcrs.set(0, localityPcr(bank, locality));
  log.events.forEach((e, n) => {
    if (e.eventType === TCG_EV.NO_ACTION) return;
    const digest = e.digests.get(bank);
    if (!digest) throw new AttestationError('ERR_TCG_LOG_MALFORMED', `TCG event log: event[${n + 1}] (PCR ${e.pcrIndex}) has no ${bank} digest`);
    const old = pcrs.get(e.pcrIndex) ?? Buffer.alloc(DIGEST_LENGTH[bank]);
    pcrs.set(e.pcrIndex, createHash(bank).update(old).update(digest).digest());
  });
  return pcrs;
}

/** PFP "TCG_EfiStartupLocalityEvent": the locality the S-CRTM started from, which TPM2_Startup put in PCR 0. */
function startupLocality(log: TcgLog): number | null {
  const found = log.events.filter((e) => e.eventType === TCG_EV.NO_ACTION && e.pcrIndex === 0 && e.event.subarray(0, STARTUP_LOCALITY_SIGNATURE.length).equals(STARTUP_LOCALITY_SIGNATURE));
  if (found.length > 1) throw new AttestationError('ERR_TCG_LOG_MALFORMED', 'TCG event log: more than one StartupLocality event');
  const event = found[0]?.event;
  if (!event) return null;
  if (event.length !== STARTUP_LOCALITY_SIGNATURE.length + 1) throw new AttestationError('ERR_TCG_LOG_MALFORMED', `TCG event log: the StartupLocality event is ${event.length} bytes, not 17`);
  return event[STARTUP_LOCALITY_SIGNATURE.length]!;
}

function localityPcr(bank: TpmHashName, locality: number): Buffer {
  const pcr = Buffer.alloc(DIGEST_LENGTH[bank]);
  pcr[pcr.length - 1] = locality;
  return pcr;
}

/**
 * Whether firmware measured UEFI Secure Boot as enabled: the one EFI_GLOBAL_VARIABLE "SecureBoot" record
 * (EV_EFI_VARIABLE_DRIVER_CONFIG) in PCR 7 before PCR 7's EV_SEPARATOR, whose data must hash to its SHA-256
 * digest. Event types are not measured and PCR 7 can still be extended after boot, so a record after the
 * separator, or a relabelled one, proves nothing: null when there is no separator or no such record before it.
 * Only meaningful once the log has been replayed against a quoted PCR 7. Throws ERR_TCG_LOG_EVENT, ERR_TCG_LOG_MALFORMED.
 */
export function secureBootEnabled(log: TcgLog): boolean | null {
  const pcr7 = log.events.filter((e) => e.pcrIndex === 7 && e.eventType !== TCG_EV.NO_ACTION);
  const separator = pcr7.findIndex((e) => e.eventType === TCG_EV.SEPARATOR);
  if (separator === -1) return null;
  const records = pcr7
    .slice(0, separator)
    .filter((e) => e.eventType === TCG_EV.EFI_VARIABLE_DRIVER_CONFIG)
    .map((e) => ({ e, v: parseUefiVariableData(e.event) }))
    .filter(({ v }) => v.name === 'SecureBoot' && v.guid.equals(EFI_GLOBAL_VARIABLE_GUID));
  if (records.length > 1) throw new AttestationError('ERR_TCG_LOG_EVENT', `PCR 7 records the SecureBoot variable ${records.length} times before its separator; firmware measures it once`);
  const record = records[0];
  if (!record) return null;
  // Replay checks the digests, not the data: the data read here must be what was measured.
  if (!record.e.digests.get('sha256')?.equals(createHash('sha256').update(record.e.event).digest())) {
    throw new AttestationError('ERR_TCG_LOG_EVENT', 'the SecureBoot variable event in PCR 7 carries other data than its SHA-256 digest measured: the log was altered');
  }
  return record.v.data.length > 0 && record.v.data[0] === 1;
}

/** UEFI_VARIABLE_DATA: VariableName GUID, UINT64 UnicodeNameLength (in CHAR16), UINT64 VariableDataLength, name, data. */
export function parseUefiVariableData(event: Uint8Array): UefiVariableData {
  const r: LeReader = new LeReader(Buffer.from(event), 'TCG event log: UEFI_VARIABLE_DATA');
  const guid = r.bytes(16, 'VariableName');
  const nameChars = r.u64('UnicodeNameLength');
  const dataBytes = r.u64('VariableDataLength');
  if (nameChars > r.remaining / 2) r.fail(`UnicodeNameLength ${nameChars} exceeds the event`);
  const name = r.bytes(2 * nameChars, 'UnicodeName').toString('utf16le');
  // Bytes after VariableData are tolerated: the whole event is measured, and some firmware pads it.
  const data = r.bytes(dataBytes, 'VariableData');
  return { guid, name, data };
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}

import { AttestationError } from '../errors.js';

/**
 * MAA's AzureGuest request (`POST /attest/AzureGuest?api-version=2020-10-01`, body `{"AttestationInfo": …}`),
 * decoded. Field names and encodings are those of Microsoft's guest attestation library
 * (confidential-computing-cvm-guest-attestation: AttestationParameters.cpp, TpmInfo.cpp, IsolationInfo.cpp;
 * azure-protocols.md §1.6): binary values are standard base64, the SNP report inside Proof is base64url.
 */
export interface AzureGuestRequest {
  readonly protocolVersion: string;
  readonly os: { readonly type: string; readonly distro: string; readonly versionMajor: number; readonly versionMinor: number; readonly build: string };
  /** The TCG event log (empty when the guest found none). */
  readonly tcgLog: Buffer;
  /** ClientPayload exactly as sent: each value is base64 of the guest's string (MAA reports it so). */
  readonly clientPayload: Readonly<Record<string, string>>;
  readonly tpm: {
    /** The AK certificate (DER) from NV index 0x01C101D0. */
    readonly akCert: Buffer;
    /** TPM2B_PUBLIC of the AK at 0x81000003. */
    readonly akPub: Buffer;
    /** TPMS_ATTEST of TPM2_Quote and the bare RSASSA signature over it. */
    readonly pcrQuote: Buffer;
    readonly pcrSignature: Buffer;
    /** TPM2B_PUBLIC of the ephemeral encryption key, TPMS_ATTEST of TPM2_Certify over it, and the AK's signature. */
    readonly encKeyPub: Buffer;
    readonly encKeyCertifyInfo: Buffer;
    readonly encKeyCertifyInfoSignature: Buffer;
    readonly pcrSet: readonly number[];
    /** SHA-256 PCR values by index, as the guest read them. */
    readonly pcrs: ReadonlyMap<number, Buffer>;
  };
  readonly isolation: {
    readonly type: 'SevSnp';
    readonly snpReport: Buffer;
    /**
     * `VcekCertChain`, decoded: the PEM VCEK and its chain. Microsoft's library sends base64 of THIM's
     * `vcekCert + certificateChain` (ImdsOperations.cpp); PEM or THIM JSON sent as they are are taken too.
     */
    readonly vcekCertChain: Buffer;
    /** The HCL runtime claims JSON (HCLAkPub, HCLEkPub, vm-configuration, user-data). */
    readonly runtimeData: Buffer;
  };
}

/** Anything larger is not a guest's evidence (a TCG log is tens of KiB; libraries cap responses too). */
const MAX_INFO_BYTES = 4 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

type Json = Record<string, unknown>;

function malformed(field: string, why: string): AttestationError {
  return new AttestationError('ERR_AZURE_GUEST_MALFORMED', `AttestationInfo.${field} ${why}`);
}

/**
 * Decodes `AttestationInfo` (base64url of JSON, as the library sends it, or the JSON object itself). Every
 * field the verifier needs must be there with its type: a missing or mistyped one is ERR_AZURE_GUEST_MALFORMED
 * naming it; an isolation type other than SevSnp is ERR_AZURE_GUEST_ISOLATION.
 */
export function parseAttestationInfo(input: string | Json): AzureGuestRequest {
  const doc = typeof input === 'string' ? decodeInfo(input) : input;
  const tpm = object(doc.TpmInfo, 'TpmInfo');
  const pcrSet = numbers(tpm.PcrSet, 'TpmInfo.PcrSet');
  return {
    protocolVersion: text(doc.AttestationProtocolVersion, 'AttestationProtocolVersion'),
    os: {
      type: utf8(doc.OSType, 'OSType'),
      distro: utf8(doc.OSDistro, 'OSDistro'),
      versionMajor: integer(doc.OSVersionMajor, 'OSVersionMajor'),
      versionMinor: integer(doc.OSVersionMinor, 'OSVersionMinor'),
      build: utf8(doc.OSBuild, 'OSBuild'),
    },
    tcgLog: doc.TcgLogs === undefined || doc.TcgLogs === null ? Buffer.alloc(0) : bytes(doc.TcgLogs, 'TcgLogs', true),
    clientPayload: clientPayload(doc.ClientPayload),
    tpm: {
      akCert: bytes(tpm.AikCert, 'TpmInfo.AikCert'),
      akPub: bytes(tpm.AikPub, 'TpmInfo.AikPub'),
      pcrQuote: bytes(tpm.PcrQuote, 'TpmInfo.PcrQuote'),
      pcrSignature: bytes(tpm.PcrSignature, 'TpmInfo.PcrSignature'),
      encKeyPub: bytes(tpm.EncKeyPub, 'TpmInfo.EncKeyPub'),
      encKeyCertifyInfo: bytes(tpm.EncKeyCertifyInfo, 'TpmInfo.EncKeyCertifyInfo'),
      encKeyCertifyInfoSignature: bytes(tpm.EncKeyCertifyInfoSignature, 'TpmInfo.EncKeyCertifyInfoSignature'),
      pcrSet,
      pcrs: pcrValues(tpm.PCRs),
    },
    isolation: isolation(doc.IsolationInfo),
  };
}

function decodeInfo(input: string): Json {
  if (input.length > (MAX_INFO_BYTES * 4) / 3 + 4) throw new AttestationError('ERR_AZURE_GUEST_MALFORMED', `AttestationInfo is larger than ${MAX_INFO_BYTES} bytes`);
  if (!BASE64URL.test(input) && !BASE64.test(input)) throw new AttestationError('ERR_AZURE_GUEST_MALFORMED', 'AttestationInfo is not base64url');
  return parseJsonObject(Buffer.from(input, BASE64URL.test(input) ? 'base64url' : 'base64'), 'AttestationInfo');
}

function parseJsonObject(raw: Buffer, what: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    throw new AttestationError('ERR_AZURE_GUEST_MALFORMED', `${what} is not UTF-8 JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new AttestationError('ERR_AZURE_GUEST_MALFORMED', `${what} is not a JSON object`);
  return doc as Json;
}

function isolation(value: unknown): AzureGuestRequest['isolation'] {
  const info = object(value, 'IsolationInfo');
  const type = text(info.Type, 'IsolationInfo.Type');
  if (type !== 'SevSnp') {
    throw new AttestationError('ERR_AZURE_GUEST_ISOLATION', `IsolationInfo.Type is ${JSON.stringify(type.slice(0, 40))}: only SEV-SNP confidential VMs ("SevSnp") are attested here; a TrustedLaunch VM has no TEE to prove`);
  }
  const evidence = object(info.Evidence, 'IsolationInfo.Evidence');
  const proof = parseJsonObject(bytes(evidence.Proof, 'IsolationInfo.Evidence.Proof'), 'AttestationInfo.IsolationInfo.Evidence.Proof');
  const report = text(proof.SnpReport, 'IsolationInfo.Evidence.Proof.SnpReport');
  if (!BASE64URL.test(report)) throw malformed('IsolationInfo.Evidence.Proof.SnpReport', 'is not base64url');
  const chain = proof.VcekCertChain;
  return {
    type: 'SevSnp',
    snpReport: Buffer.from(report, 'base64url'),
    vcekCertChain: chain === undefined || chain === null ? Buffer.alloc(0) : certChain(text(chain, 'IsolationInfo.Evidence.Proof.VcekCertChain')),
    runtimeData: bytes(evidence.RunTimeData, 'IsolationInfo.Evidence.RunTimeData'),
  };
}

function certChain(value: string): Buffer {
  const t = value.trim();
  if (t.startsWith('-----BEGIN') || t.startsWith('{')) return Buffer.from(t, 'utf8');
  return decode(t, 'IsolationInfo.Evidence.Proof.VcekCertChain', true);
}

function pcrValues(value: unknown): Map<number, Buffer> {
  if (!Array.isArray(value)) throw malformed('TpmInfo.PCRs', 'is not an array');
  const out = new Map<number, Buffer>();
  value.forEach((entry, i) => {
    const pcr = object(entry, `TpmInfo.PCRs[${i}]`);
    const index = integer(pcr.Index, `TpmInfo.PCRs[${i}].Index`);
    const digest = bytes(pcr.Digest, `TpmInfo.PCRs[${i}].Digest`);
    if (index > 23) throw malformed(`TpmInfo.PCRs[${i}].Index`, `is ${index}; PCRs are 0..23`);
    if (digest.length !== 32) throw malformed(`TpmInfo.PCRs[${i}].Digest`, `is ${digest.length} bytes; SHA-256 PCR values are 32`);
    if (out.has(index)) throw malformed('TpmInfo.PCRs', `names PCR ${index} twice`);
    out.set(index, digest);
  });
  return out;
}

function clientPayload(value: unknown): Record<string, string> {
  // jsoncpp writes an empty object as null: the library sends that when the caller gave no payload.
  if (value === undefined || value === null) return {};
  const payload = object(value, 'ClientPayload');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(payload)) {
    if (typeof v !== 'string' || !(BASE64.test(v) || BASE64URL.test(v))) throw malformed(`ClientPayload.${key.slice(0, 40)}`, 'is not a base64 string');
    out[key] = v;
  }
  return out;
}

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(field, 'is missing or not an object');
  return value as Json;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw malformed(field, 'is missing or not a string');
  return value;
}

function integer(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw malformed(field, 'is missing or not a non-negative integer');
  return value;
}

function numbers(value: unknown, field: string): number[] {
  if (!Array.isArray(value)) throw malformed(field, 'is missing or not an array');
  return value.map((v, i) => integer(v, `${field}[${i}]`));
}

function bytes(value: unknown, field: string, allowEmpty = false): Buffer {
  return decode(text(value, field), field, allowEmpty);
}

/** Standard base64, as Microsoft's C++ library writes; base64url, as its Python tools do. */
function decode(s: string, field: string, allowEmpty = false): Buffer {
  if (!BASE64.test(s) && !BASE64URL.test(s)) throw malformed(field, 'is not base64');
  // Node's base64 decoder reads both alphabets.
  const out = Buffer.from(s, 'base64');
  if (out.length === 0 && !allowEmpty) throw malformed(field, 'is empty');
  return out;
}

function utf8(value: unknown, field: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes(value, field));
  } catch (e) {
    if (e instanceof AttestationError) throw e;
    throw malformed(field, 'is not base64 of UTF-8 text');
  }
}

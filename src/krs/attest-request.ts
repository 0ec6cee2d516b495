import { AttestationError } from '../../attestation/errors.js';
import { type ParsedCertificate, loadPemBundle } from '../../attestation/snp/certificate.js';
import { decodeBase64Url } from './base64url.js';
import { KrsError, type KrsErrorCode } from './errors.js';

/** runtimeData / initTimeData as MAA takes them (azure-protocols.md §1.2). */
export interface DataBlob {
  readonly data: string;
  readonly dataType: 'JSON' | 'Binary';
}

/** The body of POST /attest/SevSnpVm, already checked against its JSON schema. */
export interface AttestRequestBody {
  readonly report: string;
  readonly runtimeData: DataBlob;
  readonly initTimeData?: DataBlob;
  /** Echoed as the `nonce` claim; not bound to the evidence (the runtime-data nonce is). */
  readonly nonce?: string | number;
}

export interface DecodedData {
  /** Exactly the bytes whose SHA-256 the report must carry. */
  readonly bytes: Buffer;
  readonly dataType: 'JSON' | 'Binary';
  /** The parsed object when dataType is JSON. */
  readonly json: Record<string, unknown> | null;
}

export interface DecodedAttestRequest {
  readonly report: Buffer;
  readonly certificates: ParsedCertificate[];
  readonly runtime: DecodedData;
  readonly initTime: DecodedData | null;
  /** The request nonce as the token will echo it (numbers as their decimal string). */
  readonly nonce: string | null;
}

/**
 * Decodes the MAA request: `report` is base64url of the JSON `{SnpReport, VcekCertChain?, Endorsements?}`
 * (field names case-sensitive), each value base64url again. `Endorsements` (ACI UVM reference info) is
 * accepted and not evaluated. Every failure is a 400 with its own code.
 */
export function decodeAttestRequest(body: AttestRequestBody): DecodedAttestRequest {
  const inner = parseInnerReport(decodeBase64Url(body.report, 'report'));
  const report = decodeBase64Url(inner.SnpReport, 'report.SnpReport');
  const certificates = inner.VcekCertChain === undefined ? [] : parseChain(decodeBase64Url(inner.VcekCertChain, 'report.VcekCertChain'));
  return {
    report,
    certificates,
    runtime: decodeData(body.runtimeData, 'runtimeData', 'ERR_INVALID_RUNTIME_DATA'),
    initTime: body.initTimeData ? decodeData(body.initTimeData, 'initTimeData', 'ERR_INVALID_INIT_TIME_DATA') : null,
    nonce: body.nonce === undefined ? null : String(body.nonce),
  };
}

interface InnerReport {
  SnpReport: string;
  VcekCertChain?: string;
}

function parseInnerReport(bytes: Buffer): InnerReport {
  const fail = (why: string): KrsError => new KrsError('ERR_INVALID_REPORT_JSON', `report: ${why}`, { details: [{ code: 'ERR_INVALID_REPORT_JSON', message: why }] });
  const doc = parseJson(bytes);
  if (doc === undefined) throw fail('the decoded report is not UTF-8 JSON');
  if (!isObject(doc)) throw fail('the decoded report is not a JSON object');
  if (typeof doc.SnpReport !== 'string') throw fail('"SnpReport" (base64url of the 1184-byte report) is missing or not a string');
  if (doc.VcekCertChain !== undefined && typeof doc.VcekCertChain !== 'string') throw fail('"VcekCertChain" must be a base64url string');
  if (doc.Endorsements !== undefined && typeof doc.Endorsements !== 'string') throw fail('"Endorsements" must be a base64url string');
  return { SnpReport: doc.SnpReport, ...(typeof doc.VcekCertChain === 'string' ? { VcekCertChain: doc.VcekCertChain } : {}) };
}

function parseChain(pem: Buffer): ParsedCertificate[] {
  try {
    return loadPemBundle(pem.toString('utf8'));
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    throw new KrsError('ERR_INVALID_CERT_CHAIN', undefined, { details: [{ code: e.code, message: e.message }], cause: e });
  }
}

function decodeData(blob: DataBlob, field: string, code: KrsErrorCode): DecodedData {
  const bytes = decodeBase64Url(blob.data, `${field}.data`);
  if (blob.dataType === 'Binary') return { bytes, dataType: 'Binary', json: null };
  const doc = parseJson(bytes);
  if (!isObject(doc)) {
    const why = doc === undefined ? 'is not UTF-8 JSON' : 'is JSON but not an object';
    throw new KrsError(code, `${field}.data ${why}`, { details: [{ code, message: `${field}.data ${why}` }] });
  }
  return { bytes, dataType: 'JSON', json: doc };
}

/** undefined when the bytes are not strict UTF-8 JSON (a lenient decoder would hash other bytes than it reads). */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

import { RunnerError } from '../errors.js';
import type { SnpEvidence } from './source.js';

/**
 * The certificate table of an extended guest request (GHCB spec, "SNP Extended Guest Request"): 24-byte
 * entries of GUID (RFC 4122 byte order) + u32 offset + u32 length, offsets from the start of the table,
 * ended by an all-zero entry, followed by the DER certificates. configfs-tsm returns it as `auxblob`.
 */
const GUIDS: Readonly<Record<string, keyof SnpEvidence['certificates']>> = {
  '63da758d-e664-4564-adc5-f4b93be8accd': 'vcek',
  'a8074bc2-a25a-483e-aae6-39c045a0b8a1': 'vlek',
  // Also the ASVK's GUID.
  '4ab7b379-bbac-4fe4-a02f-05aef327c782': 'ask',
  'c0b406a4-a803-4952-9743-3fb6014cd0ae': 'ark',
};

const ENTRY = 24;

function guidString(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** VCEK/VLEK/ASK/ARK by GUID; unknown GUIDs are skipped, a malformed table fails. An empty blob has none. */
export function parseCertTable(blob: Uint8Array): SnpEvidence['certificates'] {
  const buf = Buffer.from(blob);
  const out: { -readonly [K in keyof SnpEvidence['certificates']]?: Buffer } = {};
  if (buf.length === 0) return out;
  for (let at = 0; at + ENTRY <= buf.length; at += ENTRY) {
    const guid = buf.subarray(at, at + 16);
    const offset = buf.readUInt32LE(at + 16);
    const length = buf.readUInt32LE(at + 20);
    if (guid.every((b) => b === 0) && offset === 0 && length === 0) return out;
    if (offset < at + ENTRY || offset + length > buf.length) throw malformed(`entry ${at / ENTRY} points outside the table`);
    const role = GUIDS[guidString(guid)];
    if (role) out[role] = Buffer.from(buf.subarray(offset, offset + length));
  }
  throw malformed('it has no terminating all-zero entry');
}

function malformed(why: string): RunnerError {
  return new RunnerError('ERR_RUNNER_EVIDENCE', `the certificate table (auxblob) is malformed: ${why}`);
}

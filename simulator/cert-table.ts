/**
 * The certificate table of an extended guest request (GHCB spec; snp-evidence.md §9.7): 24-byte entries of
 * GUID (RFC 4122 byte order, as libuuid and go-sev-guest read it) + u32 offset + u32 length, offsets from
 * the start of the table, ended by an all-zero entry, followed by the DER certificates.
 */
export const CERT_TABLE_GUIDS = {
  VCEK: '63da758d-e664-4564-adc5-f4b93be8accd',
  VLEK: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  /** Also used for the ASVK. */
  ASK: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ARK: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
} as const;

export interface CertTableEntry {
  readonly guid: string;
  readonly der: Buffer;
}

const ENTRY_SIZE = 24;

function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`"${guid}" is not a GUID`);
  return Buffer.from(hex, 'hex');
}

function guidString(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeCertTable(entries: readonly CertTableEntry[]): Buffer {
  const header = Buffer.alloc((entries.length + 1) * ENTRY_SIZE);
  let offset = header.length;
  entries.forEach((e, i) => {
    const at = i * ENTRY_SIZE;
    guidBytes(e.guid).copy(header, at);
    header.writeUInt32LE(offset, at + 16);
    header.writeUInt32LE(e.der.length, at + 20);
    offset += e.der.length;
  });
  return Buffer.concat([header, ...entries.map((e) => e.der)]);
}

/** Reads a table back (tests, and tools that inspect auxblob). Throws on entries pointing outside it. */
export function decodeCertTable(table: Uint8Array): CertTableEntry[] {
  const buf = Buffer.from(table);
  const out: CertTableEntry[] = [];
  for (let at = 0; at + ENTRY_SIZE <= buf.length; at += ENTRY_SIZE) {
    const guid = buf.subarray(at, at + 16);
    const offset = buf.readUInt32LE(at + 16);
    const length = buf.readUInt32LE(at + 20);
    if (guid.every((b) => b === 0) && offset === 0 && length === 0) return out;
    if (offset + length > buf.length) throw new RangeError(`certificate table entry ${out.length} points outside the table`);
    out.push({ guid: guidString(guid), der: Buffer.from(buf.subarray(offset, offset + length)) });
  }
  throw new RangeError('certificate table has no terminating all-zero entry');
}

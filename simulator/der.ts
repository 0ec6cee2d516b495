/**
 * The few raw DER pieces the simulator assembles by hand. Everything with structure (names, TBS, X.509
 * extensions) is built with @peculiar/asn1-x509; these helpers only cover what must be byte-exact around the
 * signed TBS and the AMD extension values, whose contents are DER but not wrapped by a schema.
 */

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

export function derSequence(...parts: Uint8Array[]): Buffer {
  return derTlv(0x30, Buffer.concat(parts));
}

/** BIT STRING with zero unused bits, as X.509 signatures are. */
export function derBitString(bytes: Uint8Array): Buffer {
  return derTlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

/** A DER INTEGER in 0..255 the way AMD writes SPLs: `02 01 xx`, or `02 02 00 xx` from 0x80 up. */
export function derSmallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new RangeError(`AMD SPL ${value} is not in 0..255`);
  return value < 0x80 ? Buffer.from([0x02, 0x01, value]) : Buffer.from([0x02, 0x02, 0x00, value]);
}

export function derIa5String(text: string): Buffer {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new RangeError(`"${text}" is not printable ASCII`);
  return derTlv(0x16, Buffer.from(text, 'ascii'));
}

/** Positive INTEGER contents (no tag) for a serial number: minimal big-endian with a sign pad. */
export function integerBytes(value: number): ArrayBuffer {
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  if (bytes.length === 0 || bytes[0]! >= 0x80) bytes.unshift(0);
  return new Uint8Array(bytes).buffer;
}

/** Copy into a fresh ArrayBuffer, which the asn1 schema classes want. */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

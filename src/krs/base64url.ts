import { KrsError } from './errors.js';

/** The alphabet of RFC 4648 §5 with optional `=` padding; also the schema format `base64url`. */
export const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Strict base64url: padded (Go's URLEncoding, what the Azure sidecar sends) and unpadded (maa-rs) are both
 * accepted, anything outside the alphabet, misplaced padding or non-canonical trailing bits is refused.
 * Node's own decoder silently skips bad characters, which would let two different strings mean the same bytes.
 */
export function decodeBase64Url(text: string, field: string): Buffer {
  const bad = (why: string): KrsError =>
    new KrsError('ERR_INVALID_BASE64URL', `${field} is not base64url: ${why}`, { details: [{ code: 'ERR_INVALID_BASE64URL', message: `${field}: ${why}` }] });
  if (!BASE64URL_PATTERN.test(text)) throw bad('it contains characters outside A-Z a-z 0-9 - _ (standard base64 "+" and "/" are not allowed)');
  const body = text.replace(/=+$/, '');
  if (body.length !== text.length && text.length % 4 !== 0) throw bad('its padding does not complete a 4-character group');
  if (body.length % 4 === 1) throw bad('its length is not a whole number of bytes');
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.toString('base64url') !== body) throw bad('its last character has non-zero unused bits');
  return bytes;
}

import { type KeyObject, sign } from 'node:crypto';
import { OFF, SIGNED_LENGTH } from '../../attestation/snp/layout.js';

/**
 * Re-signs an edited report with an endorsement key, as firmware would: a valid signature over wrong content,
 * so a test can show that a binding check (not the signature) catches it.
 */
export function resign(report: Uint8Array, key: KeyObject, edit: (r: Buffer) => void = () => {}): Buffer {
  const out = Buffer.from(report);
  edit(out);
  const sig = sign('sha384', out.subarray(0, SIGNED_LENGTH), { key, dsaEncoding: 'ieee-p1363' });
  out.fill(0, OFF.signatureR, OFF.signatureR + 144);
  Buffer.from(sig.subarray(0, 48)).reverse().copy(out, OFF.signatureR);
  Buffer.from(sig.subarray(48)).reverse().copy(out, OFF.signatureS);
  return out;
}

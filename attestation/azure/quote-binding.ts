import { createHash } from 'node:crypto';

/**
 * The `qualifyingData` a guest passes to TPM2_Quote so that one AK-signed quote proves both freshness and
 * its own runtime data, as trustee's az-snp-vtpm verifier does:
 *
 *   extraData = SHA-256( UTF-8 bytes of the challenge nonce, exactly as issued  ‖  runtimeData bytes )
 *
 * The nonce is the string POST /attest/challenge returned (the KRS's are 76 base64url characters: fixed
 * length, so the boundary between the two parts cannot shift); the runtime data are exactly the bytes sent
 * base64url-encoded as `runtimeData.data` (for the runner: the JSON with its TEE key and config digest).
 * 32 bytes, within TPM2B_DATA's 64. The guest calls it before quoting; the KRS calls it to check the quote.
 */
export function quoteBindingNonce(challengeNonce: string, runtimeData: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.from(challengeNonce, 'utf8')).update(runtimeData).digest();
}

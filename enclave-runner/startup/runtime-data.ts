import { createHash } from 'node:crypto';
import type { TeeKey } from './tee-key.js';

/**
 * The runtime data the report commits to, as JSON bytes: `{keys: [TEE JWK], nonce?, "x-zt4ai-config"}`.
 * The attestation service returns it parsed as the token's `x-ms-runtime`, where Key Vault and the KRS
 * find the key to wrap to and where a release policy can pin the configuration digest.
 */
export function buildRuntimeData(tee: TeeKey, nonce: string | null, configSha256: string): Buffer {
  const doc = { keys: [tee.publicJwk], ...(nonce === null ? {} : { nonce }), 'x-zt4ai-config': configSha256 };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** REPORT_DATA = SHA-256(runtime data bytes) || 32 zero bytes, the binding MAA and the KRS check. */
export function reportDataFor(runtimeData: Buffer): Buffer {
  return Buffer.concat([createHash('sha256').update(runtimeData).digest(), Buffer.alloc(32)]);
}

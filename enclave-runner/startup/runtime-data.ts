import { X509Certificate, createHash } from 'node:crypto';
import type { TeeKey } from './tee-key.js';

/**
 * Who a client talks to, bound into the runtime data so that `zt4ai runner verify` can check that the
 * endpoint it reached is the attested one: the SHA-256 of the TLS certificate's SubjectPublicKeyInfo (hex)
 * when the runner serves TLS, otherwise its listen URL (plain HTTP binds nothing stronger than a name).
 */
export type RuntimeEndpoint = { readonly 'tls-spki-sha256': string } | { readonly listen: string };

/**
 * The runtime data the report commits to, as JSON bytes:
 * `{keys: [TEE JWK], nonce?, "x-zt4ai-config", "x-zt4ai-endpoint"?}`. The attestation service returns it parsed
 * as the token's `x-ms-runtime`, where Key Vault and the KRS find the key to wrap to and where a release policy
 * can pin the configuration digest.
 */
export function buildRuntimeData(tee: TeeKey, nonce: string | null, configSha256: string, endpoint?: RuntimeEndpoint): Buffer {
  const doc = { keys: [tee.publicJwk], ...(nonce === null ? {} : { nonce }), 'x-zt4ai-config': configSha256, ...(endpoint ? { 'x-zt4ai-endpoint': endpoint } : {}) };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** REPORT_DATA = SHA-256(runtime data bytes) || 32 zero bytes, the binding MAA and the KRS check. */
export function reportDataFor(runtimeData: Buffer): Buffer {
  return Buffer.concat([createHash('sha256').update(runtimeData).digest(), Buffer.alloc(32)]);
}

/** SHA-256 (hex) of a certificate's SubjectPublicKeyInfo (DER): what `x-zt4ai-endpoint` pins for TLS. */
export function spkiSha256(cert: X509Certificate | Buffer | string): string {
  const x = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  return createHash('sha256').update(x.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

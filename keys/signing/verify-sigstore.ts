import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError, VerificationError, Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { KeyError } from '../errors.js';
import type { ParsedBundle } from './bundle.js';

/** What a keyless signature must show: the certificate identity (SAN, e.g. an e-mail) and its OIDC issuer. */
export interface SigstoreIdentity {
  readonly identity: string;
  readonly issuer: string;
}

/**
 * Keyless mode, fully offline: the Fulcio certificate, the Rekor entry (inclusion proof or promise), the
 * SCT and the timestamps are checked by @sigstore/verify against a trusted root (the caller's copy of the
 * Sigstore TUF `trusted_root.json`), then the identity policy.
 */
export function verifySigstoreSignature(b: ParsedBundle, trustedRoot: unknown, policy: SigstoreIdentity): { errors: KeyError[]; signer: SigstoreIdentity | null } {
  if (b.material.kind !== 'certificate') return { errors: [new KeyError('ERR_SIG_MATERIAL', 'the bundle is not a keyless Sigstore bundle (no Fulcio certificate): verify it in key or certificate mode')], signer: null };
  try {
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
    verifier.verify(toSignedEntity(bundleFromJSON(b.json)), { subjectAlternativeName: policy.identity, extensions: { issuer: policy.issuer } });
    return { errors: [], signer: policy };
  } catch (e) {
    return { errors: [toKeyError(e)], signer: null };
  }
}

function toKeyError(e: unknown): KeyError {
  if (e instanceof PolicyError) return new KeyError('ERR_SIG_IDENTITY', `keyless signer does not match the expected identity and issuer: ${e.message}`, { cause: e });
  if (e instanceof VerificationError) {
    const code = e.code === 'SIGNATURE_ERROR' ? 'ERR_SIG_SIGNATURE_INVALID' : 'ERR_SIG_SIGSTORE';
    return new KeyError(code, `Sigstore verification failed (${e.code}): ${e.message}`, { cause: e });
  }
  return new KeyError('ERR_SIG_SIGSTORE', `the keyless bundle or the trusted root cannot be used: ${(e as Error).message}`, { cause: e });
}

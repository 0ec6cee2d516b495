import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_ERROR_CODES, KeyError } from '../../keys/errors.js';
import { SIGNATURE_FILE } from '../../keys/sealing/format.js';
import { parseBundle } from '../../keys/signing/bundle.js';
import { pae } from '../../keys/signing/dsse.js';
import { keyHint, loadVerifyKey } from '../../keys/signing/ec-keys.js';
import { BUNDLE_MEDIA_TYPE, INTOTO_PAYLOAD_TYPE, type Manifest } from '../../keys/signing/oms-types.js';
import { parseStatement } from '../../keys/signing/statement.js';
import { verifyKeySignature } from '../../keys/signing/verify-key.js';
import type { TrustedSigner } from '../config/types.js';
import { RunnerError, reasonOf } from '../errors.js';

/** A signed manifest whose signature verified with a trusted signer's key. */
export interface VerifiedManifest {
  readonly manifest: Manifest;
  readonly rootDigest: string;
  /** SHA-256 of the exact model.sig bytes, which every container of the model records. */
  readonly bundleSha256: string;
  /** The signing key's hint (a SHA-256 of its public key). */
  readonly signer: string;
}

/**
 * Verifies the OMS signature of a sealed model (`model.sig`) against the trusted signers, before anything
 * is decrypted: envelope, exactly one signature, a trusted key, a well-formed statement whose subject is
 * the root digest of its resources. Unsealing then holds every container to this manifest: exactly its
 * files, its root digest, and each file's digest re-hashed while decrypting. Together: only the files a
 * trusted signer signed are ever served. An unsigned model (model.manifest.json only) is refused.
 */
export async function verifySealedSignature(sealedDir: string, signers: readonly TrustedSigner[]): Promise<VerifiedManifest> {
  const bytes = await readFile(join(sealedDir, SIGNATURE_FILE)).catch((e: NodeJS.ErrnoException) => {
    throw new RunnerError('ERR_RUNNER_MODEL_SIGNATURE', `the sealed model has no ${SIGNATURE_FILE} (${e.code ?? 'error'}): unsigned models are not served`, { reason: { code: 'ERR_SEAL_MANIFEST' } });
  });
  try {
    const bundle = parseBundle(bytes);
    const problems: KeyError[] = [];
    if (bundle.mediaType !== BUNDLE_MEDIA_TYPE) problems.push(new KeyError('ERR_SIG_BUNDLE_MEDIA_TYPE', KEY_ERROR_CODES.ERR_SIG_BUNDLE_MEDIA_TYPE));
    if (bundle.payloadType !== INTOTO_PAYLOAD_TYPE) problems.push(new KeyError('ERR_SIG_PAYLOAD_TYPE', KEY_ERROR_CODES.ERR_SIG_PAYLOAD_TYPE));
    if (bundle.signatures.length !== 1) problems.push(new KeyError('ERR_SIG_SIGNATURE_COUNT', KEY_ERROR_CODES.ERR_SIG_SIGNATURE_COUNT));
    const keys = signers.map((s) => loadVerifyKey(s.publicKeyPem));
    if (problems.length === 0) problems.push(...verifyKeySignature(bundle, keys, pae(bundle.payloadType, bundle.payload), bundle.signatures[0]!.sig));
    const statement = parseStatement(bundle.payload);
    problems.push(...statement.problems);
    if (statement.manifest.serialization.method !== 'files') problems.push(new KeyError('ERR_SIG_SERIALIZATION', 'sealed models use the OMS files serialization'));
    if (problems.length > 0) throw problems[0];
    const hint = bundle.material.kind === 'publicKey' && bundle.material.hint ? bundle.material.hint : keyHint(keys[0]!);
    return { manifest: statement.manifest, rootDigest: statement.manifest.rootDigest, bundleSha256: createHash('sha256').update(bytes).digest('hex'), signer: hint };
  } catch (e) {
    if (e instanceof RunnerError) throw e;
    const reason = reasonOf(e);
    throw new RunnerError('ERR_RUNNER_MODEL_SIGNATURE', `${SIGNATURE_FILE} does not verify with a trusted signer: ${reason?.message ?? 'unreadable signature'}`, { cause: e, ...(reason ? { reason } : {}) });
  }
}

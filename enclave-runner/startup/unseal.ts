import { createPrivateKey } from 'node:crypto';
import { KeyError, isKeyError } from '../../keys/errors.js';
import type { OpenedRelease } from '../../keys/release/open-response.js';
import { type DataKeyUnwrapper, rsaOaepUnwrapper } from '../../keys/sealing/data-keys.js';
import { inspectSealedModel } from '../../keys/sealing/inspect.js';
import { type UnsealedModel, unsealModel } from '../../keys/sealing/unseal-model.js';
import { RunnerError, reasonOf } from '../errors.js';
import type { VerifiedManifest } from './model-signature.js';
import type { PlaintextStore } from './plaintext.js';

/** Models up to this size are unsealed on this thread: starting workers costs more than it saves. */
const SINGLE_THREAD_BYTES = 16 * 1024 * 1024;
const KEY_CODES = new Set(['ERR_KEY_UNWRAP', 'ERR_SEAL_WRONG_KEY', 'ERR_KEY_NOT_AVAILABLE', 'ERR_KEY_DATA_KEY', 'ERR_KEY_INVALID', 'ERR_KEY_UNSUPPORTED']);

/**
 * What the sealed headers say about the data key: the key reference of every container and how it is
 * wrapped. Read before the release, so the runner can ask for the key version the model was sealed to.
 */
export async function sealedKeyReference(sealedDir: string): Promise<{ kid: string; wrap: string; plaintextBytes: number } | null> {
  const info = await inspectSealedModel(sealedDir);
  const first = info.containers[0];
  if (!first) return null;
  return { kid: first.kid, wrap: first.wrap, plaintextBytes: info.containers.reduce((n, c) => n + c.plaintextSize, 0) };
}

/**
 * Unseals into `store` with the released key, per the containers' wrap: an RSA key unwraps the data key
 * (RSA-OAEP-256 in the header); an `oct` key is the data key itself (`dir`). Every chunk authenticates and
 * every file re-hashes to the verified manifest's digest in the same pass; the model must be the one whose
 * signature was verified (same root digest). On any failure the partial plaintext is wiped.
 */
export async function unsealInto(sealedDir: string, release: OpenedRelease, verified: VerifiedManifest, store: PlaintextStore, plaintextBytes: number): Promise<UnsealedModel> {
  let unsealed: UnsealedModel;
  try {
    unsealed = await unsealModel(sealedDir, { key: unwrapperFor(release), sink: store.sink, threads: plaintextBytes <= SINGLE_THREAD_BYTES ? 0 : 'auto' });
  } catch (e) {
    await store.wipe();
    throw unsealFailure(e);
  }
  if (!unsealed.signed || unsealed.rootDigest !== verified.rootDigest) {
    await store.wipe();
    throw new RunnerError('ERR_RUNNER_MODEL_TAMPERED', 'the unsealed model is not the one whose signature was verified (model.sig changed meanwhile)', { reason: { code: 'ERR_SEAL_ROOT_MISMATCH' } });
  }
  return unsealed;
}

function unwrapperFor(release: OpenedRelease): DataKeyUnwrapper {
  if (release.kty === 'RSA') {
    const key = createPrivateKey({ key: release.material, format: 'der', type: 'pkcs8' });
    const rsa = rsaOaepUnwrapper(key);
    return {
      unwrap: async (ref) => {
        if (ref.wrap !== 'RSA-OAEP-256') throw new KeyError('ERR_KEY_NOT_AVAILABLE', `the model's data key is held as an oct key (${ref.wrap}), but an RSA key was released`);
        return rsa.unwrap(ref);
      },
    };
  }
  if (release.kty === 'oct') {
    return {
      unwrap: async (ref) => {
        if (ref.wrap !== 'dir') throw new KeyError('ERR_KEY_NOT_AVAILABLE', "the model's data key is wrapped to an RSA key, but an oct key was released");
        if (!sameKeyPath(ref.kid, release.kid)) throw new KeyError('ERR_KEY_NOT_AVAILABLE', `the model was sealed with key ${ref.kid.slice(0, 200)}, not the released ${release.kid.slice(0, 200)}`);
        if (release.material.length !== 32) throw new KeyError('ERR_KEY_DATA_KEY', `the released oct key is ${release.material.length * 8} bits; sealed models use 256-bit data keys`);
        return Buffer.from(release.material);
      },
    };
  }
  throw new RunnerError('ERR_RUNNER_UNSEAL_KEY', `a ${release.kty} key was released; sealed models need an RSA or oct key`);
}

/** `<vault>/keys/<name>[/<version>]` naming the same key: the host may be spelled differently, a versionless reference matches any version. */
function sameKeyPath(ref: string, released: string): boolean {
  const parse = (id: string): string[] | null => {
    try {
      const m = /\/keys\/([^/]+)(?:\/([^/]+))?\/?$/.exec(new URL(id).pathname);
      return m ? [m[1]!, m[2] ?? ''] : null;
    } catch {
      return null;
    }
  };
  const a = parse(ref);
  const b = parse(released);
  return a !== null && b !== null && a[0] === b[0] && (a[1] === '' || a[1]!.toLowerCase() === b[1]!.toLowerCase());
}

function unsealFailure(e: unknown): RunnerError {
  if (e instanceof RunnerError) return e;
  const reason = reasonOf(e);
  if (isKeyError(e) && KEY_CODES.has(e.code)) return new RunnerError('ERR_RUNNER_UNSEAL_KEY', `the released key does not open the sealed model: ${e.message}`, { cause: e, ...(reason ? { reason } : {}) });
  if (isKeyError(e) && e.code === 'ERR_SEAL_IO') return new RunnerError('ERR_RUNNER_UNSEAL_IO', e.message, { cause: e, ...(reason ? { reason } : {}) });
  if (isKeyError(e)) return new RunnerError('ERR_RUNNER_MODEL_TAMPERED', `the sealed model does not match its signed manifest: ${e.message}`, { cause: e, ...(reason ? { reason } : {}) });
  return new RunnerError('ERR_RUNNER_INTERNAL', `unsealing failed: ${(e as Error).message}`, { cause: e });
}

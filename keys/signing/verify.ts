import type { KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, relative, resolve, sep } from 'node:path';
import { KeyError, isKeyError } from '../errors.js';
import { type ParsedBundle, parseBundle } from './bundle.js';
import { certificatesFromInput } from './cert-extensions.js';
import { compareResources } from './compare.js';
import { pae } from './dsse.js';
import { keyHint, loadVerifyKey } from './ec-keys.js';
import { buildManifest } from './manifest.js';
import { BUNDLE_MEDIA_TYPE, DEFAULT_IGNORE_PATHS, INTOTO_PAYLOAD_TYPE, type Manifest, type Resource } from './oms-types.js';
import { type ParsedStatement, parseStatement } from './statement.js';
import { verifyCertificateSignature } from './verify-certificate.js';
import { verifyKeySignature } from './verify-key.js';
import { type SigstoreIdentity, verifySigstoreSignature } from './verify-sigstore.js';

/** Whom to trust: pinned keys, a CA, or a keyless identity under a Sigstore trusted root. */
export type VerifyTrust =
  | { readonly mode: 'key'; readonly publicKeys: ReadonlyArray<string | Buffer | KeyObject> }
  | { readonly mode: 'certificate'; readonly trustedCAs: ReadonlyArray<string | Buffer> }
  | ({ readonly mode: 'sigstore'; readonly trustedRoot: unknown } & SigstoreIdentity);

export interface VerifyOptions {
  readonly trust: VerifyTrust;
  /** Path of the signature file, ignored when it lies inside the model. */
  readonly signatureFile?: string;
  /** Paths to ignore besides the signer's (relative to the model root). */
  readonly ignorePaths?: readonly string[];
  /** Let a model signed with allow_symlinks follow its links (default: symlinks are refused). */
  readonly allowSymlinks?: boolean;
  readonly onBytes?: (n: number) => void;
}

/** The outcome: `ok` only when the signature is trusted AND the model on disk is exactly the signed set. */
export interface ModelVerdict {
  readonly ok: boolean;
  readonly mode: VerifyTrust['mode'];
  readonly modelName: string | null;
  readonly rootDigest: string | null;
  readonly method: 'files' | 'shards' | null;
  readonly resources: number;
  /** What was ignored on disk (signer's list, the verifier's additions, the signature file). */
  readonly ignorePaths: readonly string[];
  readonly signer: Record<string, string> | null;
  readonly errors: readonly KeyError[];
}

/** Verifies an OMS signature over a model (directory or single file), reporting every reason it fails. */
export async function verifyModel(modelPath: string, bundleText: string | Buffer, options: VerifyOptions): Promise<ModelVerdict> {
  const mode = options.trust.mode;
  const empty = { ok: false, mode, modelName: null, rootDigest: null, method: null, resources: 0, ignorePaths: [], signer: null } as const;
  let bundle: ParsedBundle;
  try {
    bundle = parseBundle(bundleText);
  } catch (e) {
    return { ...empty, errors: [asKeyError(e)] };
  }
  const errors = envelopeErrors(bundle);
  let statement: ParsedStatement | undefined;
  try {
    statement = parseStatement(bundle.payload);
    errors.push(...statement.problems);
  } catch (e) {
    errors.push(asKeyError(e));
    // A v0.x bundle also uses another PAE; checking its signature would only add noise.
    if (isKeyError(e) && e.code === 'ERR_SIG_PREDICATE_LEGACY') return { ...empty, errors };
  }
  const signer = bundle.signatures.length === 1 ? checkSignature(bundle, options.trust, errors) : null;
  if (!statement) return { ...empty, signer, errors };
  const { ignorePaths, diffs } = await compareWithDisk(modelPath, statement.manifest, options);
  errors.push(...diffs);
  const m = statement.manifest;
  return { ok: errors.length === 0, mode, modelName: m.modelName, rootDigest: statement.subjectDigest, method: m.serialization.method, resources: m.resources.length, ignorePaths, signer, errors };
}

function envelopeErrors(b: ParsedBundle): KeyError[] {
  const errors: KeyError[] = [];
  if (b.mediaType !== BUNDLE_MEDIA_TYPE) errors.push(new KeyError('ERR_SIG_BUNDLE_MEDIA_TYPE', `bundle mediaType is ${JSON.stringify(b.mediaType)}, expected ${BUNDLE_MEDIA_TYPE}`));
  if (b.payloadType !== INTOTO_PAYLOAD_TYPE) errors.push(new KeyError('ERR_SIG_PAYLOAD_TYPE', `payloadType is ${JSON.stringify(b.payloadType)}, expected ${INTOTO_PAYLOAD_TYPE}`));
  if (b.signatures.length !== 1) errors.push(new KeyError('ERR_SIG_SIGNATURE_COUNT', `the envelope has ${b.signatures.length} signatures, expected exactly one`));
  return errors;
}

function checkSignature(b: ParsedBundle, trust: VerifyTrust, errors: KeyError[]): Record<string, string> | null {
  const signed = pae(b.payloadType, b.payload);
  const sig = b.signatures[0]!.sig;
  try {
    if (trust.mode === 'key') {
      const keys = trust.publicKeys.map((k) => loadVerifyKey(k));
      const e = verifyKeySignature(b, keys, signed, sig);
      errors.push(...e);
      return e.length === 0 ? { keyHint: b.material.kind === 'publicKey' && b.material.hint ? b.material.hint : keyHint(keys[0]!) } : null;
    }
    if (trust.mode === 'certificate') {
      const r = verifyCertificateSignature(b, trust.trustedCAs.flatMap((c) => certificatesFromInput(c)), signed, sig);
      errors.push(...r.errors);
      return r.signer ? { ...r.signer } : null;
    }
    const r = verifySigstoreSignature(b, trust.trustedRoot, trust);
    errors.push(...r.errors);
    return r.signer ? { identity: r.signer.identity, issuer: r.signer.issuer } : null;
  } catch (e) {
    errors.push(asKeyError(e));
    return null;
  }
}

async function compareWithDisk(modelPath: string, signed: Manifest, options: VerifyOptions): Promise<{ ignorePaths: string[]; diffs: KeyError[] }> {
  const s = signed.serialization;
  const ignorePaths = [...(s.ignorePaths ?? DEFAULT_IGNORE_PATHS), ...(options.ignorePaths ?? []), ...(await signatureInside(modelPath, options.signatureFile))];
  try {
    const local = await buildManifest(modelPath, {
      method: s.method,
      ...(s.shardSize === undefined ? {} : { shardSize: s.shardSize }),
      allowSymlinks: s.allowSymlinks && Boolean(options.allowSymlinks),
      ignorePaths,
      ...(options.onBytes ? { onBytes: options.onBytes } : {}),
    });
    return { ignorePaths: [...new Set(ignorePaths)].sort(), diffs: compareResources(signed.resources, singleFileNames(local.resources, signed.resources, modelPath), s.method) };
  } catch (e) {
    return { ignorePaths, diffs: [asKeyError(e)] };
  }
}

/** A single file is "." upstream; the draft spec names it by basename. Accept either. */
function singleFileNames(local: readonly Resource[], signed: readonly Resource[], modelPath: string): readonly Resource[] {
  const base = basename(resolve(modelPath));
  const signedNamesBase = signed.length > 0 && signed.every((r) => r.name === base || r.name.startsWith(`${base}:`));
  if (!signedNamesBase || !local.every((r) => r.name === '.' || r.name.startsWith('.:'))) return local;
  return local.map((r) => ({ ...r, name: `${base}${r.name.slice(1)}` }));
}

async function signatureInside(modelPath: string, signatureFile: string | undefined): Promise<string[]> {
  if (signatureFile === undefined) return [];
  const st = await stat(modelPath).catch(() => undefined);
  if (!st?.isDirectory()) return [];
  const rel = relative(resolve(modelPath), resolve(signatureFile));
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) ? [] : [rel.split(sep).join('/')];
}

function asKeyError(e: unknown): KeyError {
  if (isKeyError(e)) return e;
  return new KeyError('ERR_MODEL_UNREADABLE', (e as Error).message ?? String(e), { cause: e });
}

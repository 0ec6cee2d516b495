import { type KeyObject, X509Certificate, sign } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { KeyError } from '../errors.js';
import { buildBundle } from './bundle.js';
import { pae } from './dsse.js';
import { curveOf, keyHint, loadSigningKey } from './ec-keys.js';
import { buildManifest } from './manifest.js';
import { DEFAULT_IGNORE_PATHS, DEFAULT_SIGNATURE_FILE, INTOTO_PAYLOAD_TYPE, type Manifest } from './oms-types.js';
import { statementJson } from './statement.js';

export interface SignOptions {
  /** ECDSA P-256 (recommended: @sigstore/verify can check it too) or P-384 private key, PEM or KeyObject. */
  readonly privateKey: string | Buffer | KeyObject;
  /** Certificate mode: the signing certificate first, then intermediates (PEM or DER). Default: key mode. */
  readonly certificateChain?: ReadonlyArray<string | Buffer>;
  /** Where the bundle will be written; ignored in the manifest when inside the model. Default `<dir>/model.sig`. */
  readonly signatureFile?: string;
  /** Extra paths to leave out, relative to the model root; the defaults (.git, ...) are always added. */
  readonly ignorePaths?: readonly string[];
  readonly allowSymlinks?: boolean;
  readonly method?: 'files' | 'shards';
  readonly shardSize?: number;
  readonly onBytes?: (n: number) => void;
}

export interface SignedModel {
  readonly manifest: Manifest;
  /** The DSSE payload (statement JSON bytes). */
  readonly payload: Buffer;
  readonly bundle: Record<string, unknown>;
  /** The bundle as written to the signature file. */
  readonly bundleJson: string;
}

/** Hashes a model and signs its OMS v1.0 statement into a Sigstore bundle (key or certificate mode). */
export async function signModel(modelPath: string, options: SignOptions): Promise<SignedModel> {
  const key = typeof options.privateKey === 'string' || Buffer.isBuffer(options.privateKey) ? loadSigningKey(options.privateKey) : options.privateKey;
  if (key.type !== 'private') throw new KeyError('ERR_KEY_INVALID', 'signing needs a private key');
  const { hash } = curveOf(key);
  const chain = options.certificateChain?.map(toDer);
  const manifest = await buildManifest(modelPath, {
    method: options.method ?? 'files',
    ...(options.shardSize === undefined ? {} : { shardSize: options.shardSize }),
    allowSymlinks: Boolean(options.allowSymlinks),
    ignorePaths: await ignoreList(modelPath, options),
    recordIgnorePaths: true,
    ...(options.onBytes ? { onBytes: options.onBytes } : {}),
  });
  const payload = Buffer.from(statementJson(manifest), 'utf8');
  const signature = sign(hash, pae(INTOTO_PAYLOAD_TYPE, payload), { key, dsaEncoding: 'der' });
  const bundle = buildBundle(payload, signature, chain ? { chain } : { hint: keyHint(key) });
  return { manifest, payload, bundle, bundleJson: `${JSON.stringify(bundle, null, 2)}\n` };
}

/** Default signature location: `model.sig` inside a model directory, `<file>.sig` beside a single file. */
export async function defaultSignatureFile(modelPath: string): Promise<string> {
  const st = await stat(modelPath).catch(() => undefined);
  return st?.isFile() ? `${resolve(modelPath)}.sig` : resolve(modelPath, DEFAULT_SIGNATURE_FILE);
}

async function ignoreList(modelPath: string, options: SignOptions): Promise<string[]> {
  const root = resolve(modelPath);
  const sigFile = resolve(options.signatureFile ?? (await defaultSignatureFile(modelPath)));
  const rel = relative(root, sigFile);
  const inside = rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
  return [...DEFAULT_IGNORE_PATHS, ...(inside ? [rel.split(sep).join('/')] : []), ...(options.ignorePaths ?? [])];
}

function toDer(cert: string | Buffer): Buffer {
  try {
    return new X509Certificate(cert).raw;
  } catch (cause) {
    throw new KeyError('ERR_SIG_CERT_PARSE', 'a certificate of the signing chain cannot be parsed', { cause });
  }
}

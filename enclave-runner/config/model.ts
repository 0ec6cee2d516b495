import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { curveOf, loadVerifyKey, publicKeyPem } from '../../keys/signing/ec-keys.js';
import { azureBlobSection } from './blob.js';
import type { ApiKeyConfig, GuardiansConfig, LimitsConfig, SealedModelConfig, TrustedSigner } from './types.js';
import { bad, bool, integer, object, oneOf, onlyKeys, path, required, stringList, text } from './values.js';

/** The model, backend, guardian and API sections of the config file. */

export function sealedModelSection(value: unknown, baseDir: string): SealedModelConfig {
  const v = object(value, 'sealedModel');
  if (!v) throw bad('sealedModel is required: {"path": "<sealed model directory>"}');
  onlyKeys(v, 'sealedModel', ['kind', 'path', 'unsealTo', 'plaintextDir', 'url', 'managedIdentityClientId', 'maxBytes']);
  const kind = oneOf(v.kind, 'sealedModel.kind', ['directory', 'azure-blob'] as const) ?? 'directory';
  const plaintextDir = path(v.plaintextDir, 'sealedModel.plaintextDir', baseDir);
  const unsealTo = oneOf(v.unsealTo, 'sealedModel.unsealTo', ['memory', 'tmpfs'] as const) ?? (plaintextDir ? 'tmpfs' : 'memory');
  if (unsealTo === 'memory' && plaintextDir) throw bad('sealedModel.plaintextDir needs unsealTo "tmpfs"');
  // From Blob Storage: downloaded (ciphertext) into a fresh 0700 directory under `path`, by default the temp directory.
  if (kind === 'azure-blob') return { path: path(v.path, 'sealedModel.path', baseDir) ?? tmpdir(), unsealTo, plaintextDir, blob: azureBlobSection(v) };
  if (v.url !== undefined || v.managedIdentityClientId !== undefined || v.maxBytes !== undefined) throw bad('sealedModel.url, managedIdentityClientId and maxBytes apply to kind "azure-blob"');
  const dir = path(v.path, 'sealedModel.path', baseDir);
  if (dir === null) throw bad('sealedModel.path is required');
  return { path: dir, unsealTo, plaintextDir };
}

/** Signers as PEM (inline or a file); each must be an ECDSA P-256/P-384 public key. At least one: fail closed. */
export async function trustedSignersSection(value: unknown, baseDir: string): Promise<TrustedSigner[]> {
  if (!Array.isArray(value) || value.length === 0) throw bad('trustedSigners must list at least one signer: [{"kind": "public-key", "publicKeyFile": "signer.pub.pem"}]');
  const out: TrustedSigner[] = [];
  for (const [i, entry] of value.entries()) {
    const name = `trustedSigners[${i}]`;
    const v = object(entry, name);
    if (!v) throw bad(`${name} must be an object`);
    onlyKeys(v, name, ['kind', 'publicKeyPem', 'publicKeyFile']);
    oneOf(v.kind ?? 'public-key', `${name}.kind`, ['public-key'] as const);
    const file = path(v.publicKeyFile, `${name}.publicKeyFile`, baseDir);
    const inline = text(v.publicKeyPem, `${name}.publicKeyPem`);
    if ((file === null) === (inline === null)) throw bad(`${name} needs exactly one of publicKeyPem and publicKeyFile`);
    const pem = inline ?? (await readSigner(file!, name));
    out.push({ publicKeyPem: normalisedSigner(pem, name) });
  }
  return out;
}

async function readSigner(file: string, name: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw bad(`${name}.publicKeyFile "${file}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function normalisedSigner(pem: string, name: string): string {
  try {
    const key = loadVerifyKey(pem);
    curveOf(key);
    return publicKeyPem(key);
  } catch {
    throw bad(`${name} is not an ECDSA P-256 or P-384 public key (PEM)`);
  }
}

/** Entity types an operator may exempt from redaction; secrets of known formats and leaks always stay on. */
const ENTITY_TYPES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IBAN_CODE', 'US_SSN', 'UK_NINO', 'CA_SIN', 'US_DRIVER_LICENSE', 'IP_ADDRESS', 'PERSON', 'LOCATION', 'SECRET'];

/** `guardians`: input and output guardian settings (both on by default) and the audit file. */
export function guardiansSection(value: unknown, baseDir: string): GuardiansConfig {
  const v = object(value, 'guardians') ?? {};
  onlyKeys(v, 'guardians', ['input', 'output', 'auditFile']);
  const i = object(v.input, 'guardians.input') ?? {};
  onlyKeys(i, 'guardians.input', ['enabled', 'thresholds', 'endSessionSeconds', 'endSession', 'maxInputChars']);
  const o = object(v.output, 'guardians.output') ?? {};
  onlyKeys(o, 'guardians.output', ['enabled', 'leakAction', 'disable']);
  const disable = stringList(o.disable, 'guardians.output.disable') ?? [];
  for (const d of disable) if (!ENTITY_TYPES.includes(d)) throw bad(`guardians.output.disable: "${d}" is not one of ${ENTITY_TYPES.join(', ')}`);
  const ends = stringList(i.endSession, 'guardians.input.endSession') ?? ['conversation', 'apiKey'];
  for (const e of ends) if (e !== 'conversation' && e !== 'apiKey') throw bad('guardians.input.endSession lists "conversation" and/or "apiKey"');
  return {
    input: {
      enabled: bool(i.enabled, 'guardians.input.enabled') ?? true,
      thresholds: thresholds(i.thresholds),
      endSessionSeconds: integer(i.endSessionSeconds, 'guardians.input.endSessionSeconds', 0, 7 * 86_400) ?? 900,
      endSession: ends as Array<'conversation' | 'apiKey'>,
      maxInputChars: integer(i.maxInputChars, 'guardians.input.maxInputChars', 1, 16 * 1024 * 1024) ?? 262_144,
    },
    output: { enabled: bool(o.enabled, 'guardians.output.enabled') ?? true, leakAction: oneOf(o.leakAction, 'guardians.output.leakAction', ['block', 'redact'] as const) ?? 'block', disable },
    auditFile: path(v.auditFile, 'guardians.auditFile', baseDir),
  };
}

function thresholds(value: unknown): { flag: number; block: number } | null {
  const t = object(value, 'guardians.input.thresholds');
  if (!t) return null;
  onlyKeys(t, 'guardians.input.thresholds', ['flag', 'block']);
  const ok = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
  if (!ok(t.flag) || !ok(t.block) || t.flag > t.block) throw bad('guardians.input.thresholds needs flag and block in 0..1 with flag <= block');
  return { flag: t.flag, block: t.block };
}

/** `apiKeys`: ids and SHA-256 digests of bearer keys; none configured leaves the API open. */
export function apiKeysSection(value: unknown): ApiKeyConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad('apiKeys must be a list of {"id", "sha256"} (SHA-256 hex of each bearer key, never the key)');
  const ids = new Set<string>();
  return value.map((entry, i) => {
    const v = object(entry, `apiKeys[${i}]`) ?? {};
    onlyKeys(v, `apiKeys[${i}]`, ['id', 'sha256']);
    const id = required(v.id, `apiKeys[${i}].id`);
    const sha256 = required(v.sha256, `apiKeys[${i}].sha256`).toLowerCase();
    if (!/^[\w.@-]{1,64}$/.test(id) || ids.has(id)) throw bad(`apiKeys[${i}].id must be a unique name of letters, digits, _.@- (1-64)`);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad(`apiKeys[${i}].sha256 must be 64 hex digits: printf %s "$KEY" | sha256sum`);
    ids.add(id);
    return { id, sha256 };
  });
}

/** `limits`: body size, max_tokens bound, messages per request. */
export function limitsSection(value: unknown): LimitsConfig {
  const v = object(value, 'limits') ?? {};
  onlyKeys(v, 'limits', ['bodyLimitBytes', 'maxTokens', 'maxMessages']);
  return {
    bodyLimitBytes: integer(v.bodyLimitBytes, 'limits.bodyLimitBytes', 1024, 64 * 1024 * 1024) ?? 1024 * 1024,
    maxTokens: integer(v.maxTokens, 'limits.maxTokens', 1, 1_000_000) ?? 512,
    maxMessages: integer(v.maxMessages, 'limits.maxMessages', 1, 10_000) ?? 64,
  };
}

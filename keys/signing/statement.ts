import { KeyError } from '../errors.js';
import { rootDigestOf } from './manifest.js';
import { LEGACY_PREDICATE_PREFIX, type Manifest, PREDICATE_TYPE, type Resource, STATEMENT_TYPE, type Serialization } from './oms-types.js';

const HEX64 = /^[0-9a-f]{64}$/;
const SHARD_NAME = /^(.*):(0|[1-9][0-9]*):(0|[1-9][0-9]*)$/;

/**
 * The in-toto statement as the reference writes it: two-space JSON, its key order, non-ASCII escaped
 * (`ensure_ascii`) and `shard_size` as a float (`8.0`, it goes through a protobuf Struct). These bytes
 * are the DSSE payload; reproducing them exactly is what makes upstream's golden payloads match.
 */
export function statementJson(m: Manifest): string {
  const s = m.serialization;
  const serialization: Record<string, unknown> = { method: s.method, hash_type: s.hashType, allow_symlinks: s.allowSymlinks };
  if (s.method === 'shards') serialization.shard_size = s.shardSize;
  if (s.ignorePaths) serialization.ignore_paths = [...s.ignorePaths];
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: m.modelName, digest: { sha256: m.rootDigest } }],
    predicateType: PREDICATE_TYPE,
    predicate: { serialization, resources: m.resources.map((r) => ({ algorithm: r.algorithm, digest: r.digest, name: r.name })) },
  };
  return JSON.stringify(statement, null, 2)
    .replace(/"shard_size": (\d+)(?=[,\n])/, '"shard_size": $1.0')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A parsed statement: its manifest, and problems that do not stop the model comparison. */
export interface ParsedStatement {
  readonly manifest: Manifest;
  readonly subjectDigest: string;
  readonly problems: KeyError[];
}

/** Validates an OMS v1.0 statement (DSSE payload). Throws a KeyError on a shape it cannot use. */
export function parseStatement(payload: Uint8Array): ParsedStatement {
  const st = parseJsonObject(payload);
  if (st._type !== STATEMENT_TYPE) throw new KeyError('ERR_SIG_STATEMENT_TYPE', `statement _type is ${JSON.stringify(st._type)}, expected ${STATEMENT_TYPE}`);
  checkPredicateType(st.predicateType);
  const subject = parseSubject(st.subject);
  const predicate = asObject(st.predicate, 'predicate');
  const serialization = parseSerialization(asObject(predicate.serialization, 'predicate.serialization'));
  const resources = parseResources(predicate.resources, serialization);
  const rootDigest = rootDigestOf(resources);
  const problems: KeyError[] = [];
  if (rootDigest !== subject.digest) {
    problems.push(new KeyError('ERR_SIG_ROOT_DIGEST', `subject digest ${subject.digest} differs from the root digest ${rootDigest} of the resources`));
  }
  return { manifest: { modelName: subject.name, serialization, resources, rootDigest }, subjectDigest: subject.digest, problems };
}

function parseJsonObject(payload: Uint8Array): Record<string, unknown> {
  try {
    return asObject(JSON.parse(Buffer.from(payload).toString('utf8')), 'statement');
  } catch (cause) {
    if (cause instanceof KeyError) throw cause;
    throw new KeyError('ERR_SIG_STATEMENT_MALFORMED', 'the DSSE payload is not JSON', { cause });
  }
}

function checkPredicateType(t: unknown): void {
  if (t === PREDICATE_TYPE) return;
  if (typeof t === 'string' && t.startsWith(LEGACY_PREDICATE_PREFIX) && /\/v0\.[0-9.]+$/.test(t)) {
    throw new KeyError('ERR_SIG_PREDICATE_LEGACY', `predicate ${t} is a pre-1.0 model_signing format; re-sign the model with model_signing >= 1.0`);
  }
  throw new KeyError('ERR_SIG_PREDICATE_TYPE', `predicateType is ${JSON.stringify(t)}, expected ${PREDICATE_TYPE}`);
}

function parseSubject(v: unknown): { name: string; digest: string } {
  if (!Array.isArray(v) || v.length !== 1) throw new KeyError('ERR_SIG_SUBJECT', `the statement has ${Array.isArray(v) ? v.length : 'no'} subjects, expected exactly one`);
  const s = asObject(v[0], 'subject[0]');
  const digest = (s.digest as Record<string, unknown> | undefined)?.sha256;
  if (typeof digest !== 'string' || !HEX64.test(digest)) throw new KeyError('ERR_SIG_SUBJECT', 'subject[0].digest.sha256 is not 64 lowercase hex digits');
  return { name: typeof s.name === 'string' ? s.name : '', digest };
}

function parseSerialization(s: Record<string, unknown>): Serialization {
  const method = s.method;
  if (method !== 'files' && method !== 'shards') throw new KeyError('ERR_SIG_SERIALIZATION', `serialization method ${JSON.stringify(method)} is not files or shards`);
  if (s.hash_type !== 'sha256') throw new KeyError('ERR_SIG_SERIALIZATION', `hash_type ${JSON.stringify(s.hash_type)} is not supported (only sha256)`);
  if (s.allow_symlinks !== undefined && typeof s.allow_symlinks !== 'boolean') throw new KeyError('ERR_SIG_SERIALIZATION', 'allow_symlinks is not a boolean');
  const base = { method, hashType: 'sha256', allowSymlinks: s.allow_symlinks === true } as const;
  const ignorePaths = parseIgnorePaths(s.ignore_paths);
  const withIgnore = ignorePaths ? { ...base, ignorePaths } : base;
  if (method === 'files') return withIgnore;
  const shardSize = s.shard_size;
  if (typeof shardSize !== 'number' || !Number.isSafeInteger(shardSize) || shardSize < 1) throw new KeyError('ERR_SIG_SERIALIZATION', 'shard_size is not a positive integer');
  return { ...withIgnore, shardSize };
}

function parseIgnorePaths(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) throw new KeyError('ERR_SIG_SERIALIZATION', 'ignore_paths is not a list of strings');
  return v as string[];
}

function parseResources(v: unknown, s: Serialization): Resource[] {
  if (!Array.isArray(v)) throw new KeyError('ERR_SIG_RESOURCE_MALFORMED', 'predicate.resources is not a list');
  const seen = new Set<string>();
  return v.map((item, i) => {
    const r = asObject(item, `resources[${i}]`);
    const { name, algorithm, digest } = r;
    if (typeof name !== 'string' || typeof algorithm !== 'string' || typeof digest !== 'string' || !HEX64.test(digest)) {
      throw new KeyError('ERR_SIG_RESOURCE_MALFORMED', `resources[${i}] needs a name, an algorithm and a 64-hex-digit digest`);
    }
    checkResource(name, algorithm, s, i);
    if (seen.has(name)) throw new KeyError('ERR_SIG_RESOURCE_MALFORMED', `resource ${name} appears twice`, { path: name });
    seen.add(name);
    return { name, algorithm, digest };
  });
}

function checkResource(name: string, algorithm: string, s: Serialization, i: number): void {
  const path = s.method === 'files' ? name : SHARD_NAME.exec(name)?.[1];
  const expected = s.method === 'files' ? 'sha256' : `sha256-sharded-${s.shardSize}`;
  if (algorithm !== expected) throw new KeyError('ERR_SIG_RESOURCE_MALFORMED', `resources[${i}] algorithm ${algorithm} is not ${expected}`, { path: name });
  if (path === undefined || !isSafeRelativePath(path)) throw new KeyError('ERR_SIG_RESOURCE_MALFORMED', `resources[${i}] name ${JSON.stringify(name)} is not a relative path inside the model`, { path: name });
}

/** "." (a single-file model) or a POSIX relative path without "..", empty or "." components. */
export function isSafeRelativePath(p: string): boolean {
  if (p === '.') return true;
  if (p === '' || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new KeyError('ERR_SIG_STATEMENT_MALFORMED', `${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

import { createHash } from 'node:crypto';
import { KeystoreError } from '../keystore/errors.js';
import { type JsonValue, canonicalJson } from './canonical-json.js';

/** What an audit entry records. */
export const AUDIT_KINDS = [
  'attestation',
  'release-allowed',
  'release-denied',
  'key-created',
  'key-rotated',
  'key-updated',
  'policy-changed',
  'key-enabled',
  'key-disabled',
  'key-deleted',
  'key-recovered',
  'key-purged',
] as const;

export type AuditKind = (typeof AUDIT_KINDS)[number];

/** The key (and version) an entry is about; empty for entries about no key (an attestation, say). */
export interface AuditSubject {
  readonly name?: string;
  readonly version?: string;
}

/** An entry as a caller writes it; the log adds seq, time and hash. */
export interface AuditDraft {
  readonly kind: AuditKind;
  readonly subject?: AuditSubject;
  /** Who acted: an administrator's identity, a release caller's token subject, or "krs". */
  readonly actor: string;
  /** Why and what: failing policy clauses for a denial, a token's jti/hash, a policy's hash. Never secrets. */
  readonly details?: { readonly [key: string]: JsonValue };
}

/** An entry as stored. `hash` = hex SHA-256(previous hash bytes || canonical JSON of every other field). */
export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly kind: AuditKind;
  readonly subject: AuditSubject;
  readonly actor: string;
  readonly details: { readonly [key: string]: JsonValue };
  readonly hash: string;
}

/** The previous hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

const MAX_DETAILS_BYTES = 16 * 1024;

/** Hex SHA-256 chaining an entry to its predecessor. */
export function entryHash(prevHash: string, entry: Omit<AuditEntry, 'hash'>): string {
  const body = canonicalJson({ seq: entry.seq, time: entry.time, kind: entry.kind, subject: entry.subject, actor: entry.actor, details: entry.details });
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(body, 'utf8').digest('hex');
}

/** Builds the next entry of the chain from a draft. Refuses details that must never be logged. */
export function chainEntry(prevHash: string, seq: number, time: string, draft: AuditDraft): AuditEntry {
  if (!(AUDIT_KINDS as readonly string[]).includes(draft.kind)) throw new KeystoreError('ERR_AUDIT_DETAILS', `unknown audit kind "${String(draft.kind)}"`);
  if (typeof draft.actor !== 'string' || draft.actor.length > 512 || COMPACT_JWS.test(draft.actor)) {
    throw new KeystoreError('ERR_AUDIT_DETAILS', 'an audit actor is a name of up to 512 characters, never a token');
  }
  const details = draft.details ?? {};
  assertSafeDetails(details);
  const subject: AuditSubject = {
    ...(draft.subject?.name === undefined ? {} : { name: draft.subject.name }),
    ...(draft.subject?.version === undefined ? {} : { version: draft.subject.version }),
  };
  const entry = { seq, time, kind: draft.kind, subject, actor: draft.actor, details };
  return { ...entry, hash: entryHash(prevHash, entry) };
}

/** Field names whose values are key material or credentials in JWK, Key Vault and OAuth vocabularies. */
const SECRET_FIELDS = new Set(['k', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'key_hsm', 'material', 'privatekey', 'private_key', 'secret', 'password', 'access_token', 'id_token', 'refresh_token', 'authorization']);
/** A compact JWS/JWT: three base64url parts, the first a JSON header. */
const COMPACT_JWS = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Fails closed when details could carry a secret: a secret-named field, a compact JWS/JWT (store its jti or
 * hash instead, see `tokenReference`), a PEM private key, or more than 16 KiB.
 */
export function assertSafeDetails(details: { readonly [key: string]: JsonValue }): void {
  let text: string;
  try {
    text = canonicalJson(details);
  } catch {
    throw new KeystoreError('ERR_AUDIT_DETAILS', 'audit details are not JSON-representable');
  }
  if (Buffer.byteLength(text) > MAX_DETAILS_BYTES) throw new KeystoreError('ERR_AUDIT_DETAILS', `audit details exceed ${MAX_DETAILS_BYTES} bytes`);
  walk(details, '');
}

function walk(value: JsonValue, path: string): void {
  if (typeof value === 'string') {
    if (COMPACT_JWS.test(value)) throw new KeystoreError('ERR_AUDIT_DETAILS', `audit details at ${path || '/'} hold a token; log tokenReference(token) instead`);
    if (value.includes('PRIVATE KEY-----')) throw new KeystoreError('ERR_AUDIT_DETAILS', `audit details at ${path || '/'} hold a private key`);
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${path}/${i}`);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_FIELDS.has(k.toLowerCase())) throw new KeystoreError('ERR_AUDIT_DETAILS', `audit details must not have a "${k}" field`);
      walk(v, `${path}/${k}`);
    }
  }
}

/** What the log keeps of a token: its jti (when it has one) and the SHA-256 of the whole token, never the token. */
export function tokenReference(token: string): { jti?: string; sha256: string } {
  const sha256 = createHash('sha256').update(token, 'utf8').digest('hex');
  const payload = token.split('.')[1];
  try {
    const jti = payload === undefined ? undefined : (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti?: unknown }).jti;
    return typeof jti === 'string' && jti.length <= 256 ? { jti, sha256 } : { sha256 };
  } catch {
    return { sha256 };
  }
}

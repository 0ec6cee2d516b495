import type Database from 'better-sqlite3';
import type { AuditDraft } from '../../audit/entry.js';
import { KeystoreError } from '../errors.js';
import type { KeyStorage, NewVersion, StoredKey, StoredVersion, VersionPatch } from '../storage.js';
import type { KeyOperation, KeyType } from '../types.js';
import type { SqliteAudit } from './sqlite-audit.js';
import { runWrite } from './write.js';

interface VersionRow {
  name: string;
  version: string;
  ord: number;
  kty: string;
  key_size: number;
  key_ops: string;
  public_n: string | null;
  public_e: string | null;
  enabled: number;
  exportable: number;
  created: number;
  updated: number;
  policy_content_type: string | null;
  policy_data: string | null;
  policy_immutable: number | null;
  kek_id: string;
  wrapped_dek: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  mac: Buffer;
  rev: number;
}

interface KeyRow {
  name: string;
  created: number;
  deleted_at: number | null;
  recoverable_days: number;
}

function toVersion(r: VersionRow): StoredVersion {
  return {
    name: r.name,
    version: r.version,
    ord: r.ord,
    kty: r.kty as KeyType,
    keySize: r.key_size,
    keyOps: JSON.parse(r.key_ops) as KeyOperation[],
    publicKey: r.public_n !== null && r.public_e !== null ? { n: r.public_n, e: r.public_e } : null,
    enabled: r.enabled === 1,
    exportable: r.exportable === 1,
    created: r.created,
    updated: r.updated,
    releasePolicy: r.policy_data === null ? null : { contentType: r.policy_content_type ?? '', data: r.policy_data, immutable: r.policy_immutable === 1 },
    dek: { kekId: r.kek_id, wrapped: r.wrapped_dek },
    material: { iv: r.iv, ciphertext: r.ciphertext, tag: r.tag },
    mac: r.mac,
    rev: r.rev,
  };
}

function toKey(r: KeyRow): StoredKey {
  return { name: r.name, created: r.created, deletedAt: r.deleted_at, recoverableDays: r.recoverable_days };
}

function toRow(v: StoredVersion): VersionRow {
  return {
    name: v.name,
    version: v.version,
    ord: v.ord,
    kty: v.kty,
    key_size: v.keySize,
    key_ops: JSON.stringify(v.keyOps),
    public_n: v.publicKey?.n ?? null,
    public_e: v.publicKey?.e ?? null,
    enabled: v.enabled ? 1 : 0,
    exportable: v.exportable ? 1 : 0,
    created: v.created,
    updated: v.updated,
    policy_content_type: v.releasePolicy?.contentType ?? null,
    policy_data: v.releasePolicy?.data ?? null,
    policy_immutable: v.releasePolicy === null ? null : v.releasePolicy.immutable ? 1 : 0,
    kek_id: v.dek.kekId,
    wrapped_dek: v.dek.wrapped,
    iv: v.material.iv,
    ciphertext: v.material.ciphertext,
    tag: v.material.tag,
    mac: v.mac,
    rev: v.rev,
  };
}

const COLUMNS = 'name, version, ord, kty, key_size, key_ops, public_n, public_e, enabled, exportable, created, updated, policy_content_type, policy_data, policy_immutable, kek_id, wrapped_dek, iv, ciphertext, tag, mac, rev';
const CURRENT = `SELECT ${COLUMNS} FROM key_versions WHERE name = ? ORDER BY ord DESC LIMIT 1`;

function conflict(message: string): KeystoreError {
  return new KeystoreError('ERR_KEYSTORE_CONFLICT', message);
}

/** Keys in the store's SQLite database. Each write is one transaction together with its audit entries. */
export class SqliteKeys implements KeyStorage {
  readonly #db: Database.Database;
  readonly #audit: SqliteAudit;

  constructor(db: Database.Database, audit: SqliteAudit) {
    this.#db = db;
    this.#audit = audit;
  }

  async getKey(name: string): Promise<StoredKey | null> {
    return this.#key(name);
  }

  async getVersion(name: string, version?: string): Promise<StoredVersion | null> {
    return this.#version(name, version);
  }

  async listKeys(options: { deleted: boolean }): Promise<Array<{ key: StoredKey; current: StoredVersion }>> {
    const keys = this.#db.prepare(`SELECT name, created, deleted_at, recoverable_days FROM keys WHERE deleted_at IS ${options.deleted ? 'NOT ' : ''}NULL ORDER BY name`).all() as KeyRow[];
    const current = this.#db.prepare(CURRENT);
    return keys.flatMap((k) => {
      const row = current.get(k.name) as VersionRow | undefined;
      return row ? [{ key: toKey(k), current: toVersion(row) }] : [];
    });
  }

  async listVersions(name: string): Promise<StoredVersion[]> {
    return (this.#db.prepare(`SELECT ${COLUMNS} FROM key_versions WHERE name = ? ORDER BY ord`).all(name) as VersionRow[]).map(toVersion);
  }

  async scanVersions(after: { name: string; ord: number } | null, limit: number): Promise<StoredVersion[]> {
    const rows = after
      ? this.#db.prepare(`SELECT ${COLUMNS} FROM key_versions WHERE (name, ord) > (?, ?) ORDER BY name, ord LIMIT ?`).all(after.name, after.ord, limit)
      : this.#db.prepare(`SELECT ${COLUMNS} FROM key_versions ORDER BY name, ord LIMIT ?`).all(limit);
    return (rows as VersionRow[]).map(toVersion);
  }

  async insertVersion(change: NewVersion, audit: readonly AuditDraft[], time: string): Promise<StoredVersion> {
    const v = change.version;
    return runWrite(this.#db, () => {
      const key = this.#key(v.name);
      if (change.newKey) {
        if (key) throw conflict(`key "${v.name}" was created concurrently`);
        this.#db.prepare('INSERT INTO keys (name, created, deleted_at, recoverable_days) VALUES (?, ?, NULL, ?)').run(v.name, v.created, change.newKey.recoverableDays);
      } else if (!key || key.deletedAt !== null) {
        throw conflict(`key "${v.name}" was deleted concurrently`);
      }
      const latest = this.#version(v.name);
      if (change.expectLatest && (latest?.version !== change.expectLatest.version || latest.rev !== change.expectLatest.rev)) {
        throw conflict(`key "${v.name}" changed while its new version was prepared`);
      }
      const stored: StoredVersion = { ...v, ord: (latest?.ord ?? 0) + 1, rev: 1 };
      this.#db.prepare(`INSERT INTO key_versions (${COLUMNS}) VALUES (${COLUMNS.split(', ').map((c) => `@${c}`).join(', ')})`).run(toRow(stored));
      this.#audit.appendInTransaction(audit, time);
      return stored;
    });
  }

  async updateVersion(name: string, version: string, expectRev: number, patch: VersionPatch, audit: readonly AuditDraft[], time: string): Promise<StoredVersion> {
    return runWrite(this.#db, () => {
      const current = this.#version(name, version);
      if (!current || current.rev !== expectRev) throw conflict(`key "${name}" version ${version} changed concurrently`);
      const next: StoredVersion = {
        ...current,
        ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
        ...(patch.releasePolicy === undefined ? {} : { releasePolicy: patch.releasePolicy }),
        ...(patch.dek === undefined ? {} : { dek: patch.dek }),
        ...(patch.mac === undefined ? {} : { mac: patch.mac }),
        updated: patch.updated,
        rev: current.rev + 1,
      };
      const r = toRow(next);
      this.#db
        .prepare('UPDATE key_versions SET enabled = @enabled, policy_content_type = @policy_content_type, policy_data = @policy_data, policy_immutable = @policy_immutable, kek_id = @kek_id, wrapped_dek = @wrapped_dek, mac = @mac, updated = @updated, rev = @rev WHERE name = @name AND version = @version')
        .run(r);
      this.#audit.appendInTransaction(audit, time);
      return next;
    });
  }

  async setDeleted(name: string, deletedAt: number | null, audit: readonly AuditDraft[], time: string): Promise<void> {
    runWrite(this.#db, () => {
      const key = this.#key(name);
      if (!key || (key.deletedAt === null) === (deletedAt === null)) throw conflict(`key "${name}" was deleted or recovered concurrently`);
      this.#db.prepare('UPDATE keys SET deleted_at = ? WHERE name = ?').run(deletedAt, name);
      this.#audit.appendInTransaction(audit, time);
    });
  }

  async purge(name: string, audit: readonly AuditDraft[], time: string): Promise<void> {
    runWrite(this.#db, () => {
      const key = this.#key(name);
      if (!key || key.deletedAt === null) throw conflict(`key "${name}" was recovered or purged concurrently`);
      this.#db.prepare('DELETE FROM key_versions WHERE name = ?').run(name);
      this.#db.prepare('DELETE FROM keys WHERE name = ?').run(name);
      this.#audit.appendInTransaction(audit, time);
    });
  }

  #key(name: string): StoredKey | null {
    const row = this.#db.prepare('SELECT name, created, deleted_at, recoverable_days FROM keys WHERE name = ?').get(name) as KeyRow | undefined;
    return row ? toKey(row) : null;
  }

  #version(name: string, version?: string): StoredVersion | null {
    const row = (version === undefined ? this.#db.prepare(CURRENT).get(name) : this.#db.prepare(`SELECT ${COLUMNS} FROM key_versions WHERE name = ? AND version = ?`).get(name, version)) as VersionRow | undefined;
    return row ? toVersion(row) : null;
  }
}

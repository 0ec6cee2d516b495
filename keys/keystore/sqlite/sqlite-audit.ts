import type Database from 'better-sqlite3';
import { canonicalJson } from '../../audit/canonical-json.js';
import { type AuditCheckpoint, type CheckpointSigner, signCheckpoint } from '../../audit/checkpoint.js';
import { type AuditDraft, type AuditEntry, GENESIS_HASH, chainEntry } from '../../audit/entry.js';
import { parseAuditRow, toAuditRow } from '../../audit/rows.js';
import type { AuditQuery, AuditStorage, RawAuditRow } from '../../audit/storage.js';
import { runWrite } from './write.js';

/** Checkpoint policy: sign every `every` entries (inside the appending transaction). */
export interface CheckpointConfig {
  readonly signer: CheckpointSigner;
  readonly every: number;
}

const SELECT_ROW = 'SELECT seq, time, kind, subject_name AS subjectName, subject_version AS subjectVersion, actor, details, hash FROM audit_log';

/** The audit log in the store's SQLite database. */
export class SqliteAudit implements AuditStorage {
  readonly #db: Database.Database;
  readonly #checkpoints: CheckpointConfig | undefined;

  constructor(db: Database.Database, checkpoints: CheckpointConfig | undefined) {
    this.#db = db;
    this.#checkpoints = checkpoints;
  }

  /**
   * Chains and inserts entries; must run inside the caller's write transaction, which is what makes a key
   * change and its record one atomic step. Signs a checkpoint whenever a seq is a multiple of `every`.
   */
  appendInTransaction(drafts: readonly AuditDraft[], time: string): AuditEntry[] {
    const last = this.#db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    let prev = last?.hash ?? GENESIS_HASH;
    let seq = last?.seq ?? 0;
    const insert = this.#db.prepare('INSERT INTO audit_log (seq, time, kind, subject_name, subject_version, actor, details, hash) VALUES (@seq, @time, @kind, @subjectName, @subjectVersion, @actor, @details, @hash)');
    const out: AuditEntry[] = [];
    for (const draft of drafts) {
      seq += 1;
      const entry = chainEntry(prev, seq, time, draft);
      insert.run(toAuditRow(entry, canonicalJson(entry.details)));
      if (this.#checkpoints && seq % this.#checkpoints.every === 0) this.#insertCheckpoint(signCheckpoint(this.#checkpoints.signer, seq, entry.hash, time));
      prev = entry.hash;
      out.push(entry);
    }
    return out;
  }

  async append(drafts: readonly AuditDraft[], time: string): Promise<AuditEntry[]> {
    return runWrite(this.#db, () => this.appendInTransaction(drafts, time));
  }

  async readRaw(afterSeq: number, limit: number): Promise<RawAuditRow[]> {
    return this.#db.prepare(`${SELECT_ROW} WHERE seq > ? ORDER BY seq LIMIT ?`).all(afterSeq, limit) as RawAuditRow[];
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    return this.#db.prepare('SELECT seq, hash, time, key_id AS keyId, signature FROM audit_checkpoints ORDER BY seq').all() as AuditCheckpoint[];
  }

  async query(q: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = ['seq > @afterSeq'];
    const params: Record<string, string | number> = { afterSeq: q.afterSeq ?? 0, limit: clampLimit(q.limit) };
    const add = (clause: string, name: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      params[name] = value;
    };
    add('subject_name = @name', 'name', q.name);
    add('subject_version = @version', 'version', q.version);
    add('time >= @since', 'since', q.since?.toISOString());
    add('time < @until', 'until', q.until?.toISOString());
    if (q.kinds !== undefined && q.kinds.length > 0) {
      where.push(`kind IN (${q.kinds.map((_, i) => `@kind${i}`).join(', ')})`);
      q.kinds.forEach((k, i) => {
        params[`kind${i}`] = k;
      });
    }
    const rows = this.#db.prepare(`${SELECT_ROW} WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`).all(params) as RawAuditRow[];
    return rows.map(parseAuditRow);
  }

  async tail(n: number): Promise<AuditEntry[]> {
    const rows = this.#db.prepare(`${SELECT_ROW} ORDER BY seq DESC LIMIT ?`).all(clampLimit(n)) as RawAuditRow[];
    return rows.reverse().map(parseAuditRow);
  }

  async checkpoint(time: string): Promise<AuditCheckpoint | null> {
    const cfg = this.#checkpoints;
    if (!cfg) return null;
    return runWrite(this.#db, () => {
      const last = this.#db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
      if (!last) return null;
      const existing = this.#db.prepare('SELECT seq, hash, time, key_id AS keyId, signature FROM audit_checkpoints WHERE seq = ?').get(last.seq) as AuditCheckpoint | undefined;
      if (existing) return existing;
      const cp = signCheckpoint(cfg.signer, last.seq, last.hash, time);
      this.#insertCheckpoint(cp);
      return cp;
    });
  }

  #insertCheckpoint(cp: AuditCheckpoint): void {
    this.#db.prepare('INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (@seq, @hash, @time, @keyId, @signature)').run(cp);
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 100;
  return Math.max(1, Math.min(1000, Math.floor(limit)));
}

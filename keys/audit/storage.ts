import type { AuditCheckpoint } from './checkpoint.js';
import type { AuditDraft, AuditEntry, AuditKind } from './entry.js';

/** An entry exactly as stored, unparsed, so a verifier sees tampering rather than a parse error somewhere else. */
export interface RawAuditRow {
  readonly seq: number;
  readonly time: string;
  readonly kind: string;
  readonly subjectName: string | null;
  readonly subjectVersion: string | null;
  readonly actor: string;
  readonly details: string;
  readonly hash: string;
}

/** Filters for auditors. Times compare as ISO-8601 UTC strings; `afterSeq` pages forward. */
export interface AuditQuery {
  readonly name?: string;
  readonly version?: string;
  readonly kinds?: readonly AuditKind[];
  /** Inclusive. */
  readonly since?: Date;
  /** Exclusive. */
  readonly until?: Date;
  readonly afterSeq?: number;
  /** Default 100, at most 1000. */
  readonly limit?: number;
}

/** What `verifyAuditLog` reads. */
export interface AuditReader {
  /** Rows with seq > afterSeq, ascending, at most `limit`. */
  readRaw(afterSeq: number, limit: number): Promise<RawAuditRow[]>;
  /** Every stored checkpoint, ascending by seq. */
  checkpoints(): Promise<AuditCheckpoint[]>;
}

/**
 * The audit half of a store. Appends are atomic and chained inside the store's transaction (and, for key
 * changes, inside the same transaction as the change), so two writers can never fork the chain.
 */
export interface AuditStorage extends AuditReader {
  append(drafts: readonly AuditDraft[], time: string): Promise<AuditEntry[]>;
  query(q: AuditQuery): Promise<AuditEntry[]>;
  /** The last `n` entries, oldest first. */
  tail(n: number): Promise<AuditEntry[]>;
  /** Signs a checkpoint on the latest entry now (null when the log is empty or no signer is configured). */
  checkpoint(time: string): Promise<AuditCheckpoint | null>;
}

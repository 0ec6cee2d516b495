import type { AuditCheckpoint } from './checkpoint.js';
import type { AuditDraft, AuditEntry } from './entry.js';
import type { AuditQuery, AuditStorage } from './storage.js';

/**
 * The KRS's handle on the audit log: append decisions (attestations, releases allowed or denied), query them
 * for auditors, sign checkpoints. Key changes are appended by the keystore in the change's own transaction.
 */
export class AuditLog {
  readonly #storage: AuditStorage;
  readonly #now: () => Date;

  constructor(storage: AuditStorage, options: { now?: () => Date } = {}) {
    this.#storage = storage;
    this.#now = options.now ?? (() => new Date());
  }

  /** Appends one entry and returns it with its seq and hash. Throws ERR_AUDIT_DETAILS for unsafe details. */
  async append(draft: AuditDraft): Promise<AuditEntry> {
    const [entry] = await this.#storage.append([draft], this.#now().toISOString());
    return entry!;
  }

  /** Entries matching a key name/version, kinds and a time range, ascending; page with `afterSeq`. */
  query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    return this.#storage.query(q);
  }

  /** The last `n` entries, oldest first. */
  tail(n: number): Promise<AuditEntry[]> {
    return this.#storage.tail(n);
  }

  /** Signs a checkpoint on the latest entry now (at shutdown, or when an auditor asks for an anchor). */
  checkpoint(): Promise<AuditCheckpoint | null> {
    return this.#storage.checkpoint(this.#now().toISOString());
  }

  checkpoints(): Promise<AuditCheckpoint[]> {
    return this.#storage.checkpoints();
  }
}

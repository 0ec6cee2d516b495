import type { AuditDraft, AuditEntry, AuditStorage } from '../../keys/audit/index.js';

interface Pending {
  readonly draft: AuditDraft;
  readonly resolve: (entry: AuditEntry) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Appends decision entries (attestations, releases) with group commit: every entry recorded in the same
 * turn of the event loop goes into one transaction, so concurrent decisions share one fsync. Each caller
 * still waits for its own entry to be durable before it answers: a decision is never acknowledged unrecorded.
 */
export class AuditWriter {
  readonly #storage: AuditStorage;
  readonly #now: () => Date;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;

  constructor(storage: AuditStorage, now: () => Date = () => new Date()) {
    this.#storage = storage;
    this.#now = now;
  }

  /** Resolves with the stored entry; rejects (ERR_AUDIT_DETAILS, storage errors) when it was not stored. */
  record(draft: AuditDraft): Promise<AuditEntry> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ draft, resolve, reject });
      this.#flushing ??= new Promise<void>((ready) => setImmediate(ready)).then(() => this.#flush());
    });
  }

  /** Waits until everything recorded so far is stored (shutdown). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    try {
      const entries = await this.#storage.append(batch.map((p) => p.draft), this.#now().toISOString());
      for (const [i, p] of batch.entries()) p.resolve(entries[i]!);
    } catch {
      // One unacceptable draft fails its whole transaction: store the others one by one.
      for (const p of batch) await this.#appendOne(p);
    } finally {
      this.#flushing = this.#queue.length > 0 ? new Promise<void>((ready) => setImmediate(ready)).then(() => this.#flush()) : null;
    }
  }

  async #appendOne(p: Pending): Promise<void> {
    try {
      const [entry] = await this.#storage.append([p.draft], this.#now().toISOString());
      p.resolve(entry!);
    } catch (e) {
      p.reject(e);
    }
  }
}

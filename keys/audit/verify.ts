import { type KeyObject, timingSafeEqual } from 'node:crypto';
import { type KeystoreErrorCode, isKeystoreError } from '../keystore/errors.js';
import { type AuditCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { GENESIS_HASH, entryHash } from './entry.js';
import { parseAuditRow } from './rows.js';
import type { AuditReader } from './storage.js';

export interface VerifyAuditOptions {
  /**
   * A checkpoint kept outside the store (by an auditor, or published by the KRS). Without one, a tail cut
   * together with the checkpoints that cover it cannot be told from a shorter history: keep the latest.
   */
  readonly anchor?: AuditCheckpoint;
  /** Fail when the log has no checkpoint at all. */
  readonly requireCheckpoint?: boolean;
}

export type AuditVerdict =
  | {
      readonly ok: true;
      readonly entries: number;
      readonly lastSeq: number;
      readonly lastHash: string;
      readonly lastCheckpointSeq: number | null;
      /** Entries after the last checkpoint: chained, but not yet covered by a signature. */
      readonly uncheckpointed: number;
    }
  | { readonly ok: false; readonly seq: number; readonly code: KeystoreErrorCode; readonly message: string };

const PAGE = 1000;

/**
 * Verifies the whole log: consecutive seqs from 1, each hash chaining its entry to the previous one, each
 * checkpoint signed by one of `publicKeys` and equal to the log's hash at its seq, no checkpoint (nor the
 * anchor) beyond the end. Returns the first broken seq with the reason's code.
 */
export async function verifyAuditLog(log: AuditReader, publicKeys: KeyObject | readonly KeyObject[], options: VerifyAuditOptions = {}): Promise<AuditVerdict> {
  const keys = Array.isArray(publicKeys) ? (publicKeys as readonly KeyObject[]) : [publicKeys as KeyObject];
  const checkpoints = [...(await log.checkpoints())];
  if (options.anchor) checkpoints.push(options.anchor);
  checkpoints.sort((a, b) => a.seq - b.seq);
  const state = { prev: GENESIS_HASH, seq: 0, lastCheckpoint: null as number | null };
  let next = 0;
  for (;;) {
    const rows = await log.readRaw(state.seq, PAGE);
    for (const row of rows) {
      const expected = state.seq + 1;
      if (row.seq !== expected) return fail(expected, 'ERR_AUDIT_SEQ_GAP', `entry ${expected} is missing (the next stored entry is ${row.seq})`);
      let entry: ReturnType<typeof parseAuditRow>;
      try {
        entry = parseAuditRow(row);
      } catch (e) {
        if (isKeystoreError(e)) return fail(row.seq, e.code, e.message);
        throw e;
      }
      if (!sameHex(entryHash(state.prev, entry), entry.hash)) return fail(row.seq, 'ERR_AUDIT_HASH', `entry ${row.seq} does not match its hash: it was edited, swapped or reordered`);
      state.prev = entry.hash;
      state.seq = row.seq;
      for (; next < checkpoints.length && checkpoints[next]!.seq === row.seq; next++) {
        const problem = checkCheckpoint(checkpoints[next]!, entry.hash, keys, options.anchor, state.lastCheckpoint ?? 0);
        if (problem) return problem;
        state.lastCheckpoint = row.seq;
      }
      if (next < checkpoints.length && checkpoints[next]!.seq < row.seq) return fail(checkpoints[next]!.seq, 'ERR_AUDIT_CHECKPOINT_HASH', `checkpoint ${checkpoints[next]!.seq} names no entry`);
    }
    if (rows.length < PAGE) break;
  }
  if (next < checkpoints.length) {
    const cp = checkpoints[next]!;
    const code = cp === options.anchor ? 'ERR_AUDIT_ANCHOR' : 'ERR_AUDIT_TRUNCATED';
    return fail(state.seq + 1, code, `the log ends at entry ${state.seq} but ${cp === options.anchor ? 'the external anchor' : 'a signed checkpoint'} covers entry ${cp.seq}: its tail was removed`);
  }
  if (options.requireCheckpoint && state.lastCheckpoint === null) return fail(state.seq, 'ERR_AUDIT_UNCHECKPOINTED', 'the log has no signed checkpoint');
  return { ok: true, entries: state.seq, lastSeq: state.seq, lastHash: state.prev, lastCheckpointSeq: state.lastCheckpoint, uncheckpointed: state.seq - (state.lastCheckpoint ?? 0) };
}

function checkCheckpoint(cp: AuditCheckpoint, hash: string, keys: readonly KeyObject[], anchor: AuditCheckpoint | undefined, lastGood: number): AuditVerdict | null {
  if (!verifyCheckpoint(cp, keys)) return fail(cp.seq, 'ERR_AUDIT_CHECKPOINT_SIGNATURE', `checkpoint ${cp.seq} is not signed by a trusted checkpoint key`);
  if (!sameHex(cp.hash, hash)) {
    const code = cp === anchor ? 'ERR_AUDIT_ANCHOR' : 'ERR_AUDIT_CHECKPOINT_HASH';
    return fail(cp.seq, code, `the log's hash at entry ${cp.seq} differs from the signed checkpoint: an entry between ${lastGood + 1} and ${cp.seq} was rewritten`);
  }
  return null;
}

function fail(seq: number, code: KeystoreErrorCode, message: string): AuditVerdict {
  return { ok: false, seq, code, message };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The hash-chained, checkpointed audit log: entries, queries and verification. */
export { AuditLog } from './audit-log.js';
export { type JsonValue, canonicalJson } from './canonical-json.js';
export { type AuditCheckpoint, type CheckpointSigner, checkpointKeyId, createCheckpointSigner, generateCheckpointKey, verifyCheckpoint } from './checkpoint.js';
export { AUDIT_KINDS, type AuditDraft, type AuditEntry, type AuditKind, type AuditSubject, GENESIS_HASH, tokenReference } from './entry.js';
export type { AuditQuery, AuditReader, AuditStorage, RawAuditRow } from './storage.js';
export { type AuditVerdict, type VerifyAuditOptions, verifyAuditLog } from './verify.js';

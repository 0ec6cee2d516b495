import { KeystoreError } from '../keystore/errors.js';
import type { JsonValue } from './canonical-json.js';
import { AUDIT_KINDS, type AuditEntry, type AuditKind, type AuditSubject } from './entry.js';
import type { RawAuditRow } from './storage.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Parses a stored row; throws ERR_AUDIT_ENTRY_MALFORMED naming the seq when a field cannot be read. */
export function parseAuditRow(row: RawAuditRow): AuditEntry {
  const bad = (what: string): KeystoreError => new KeystoreError('ERR_AUDIT_ENTRY_MALFORMED', `audit entry ${row.seq}: ${what}`);
  if (!(AUDIT_KINDS as readonly string[]).includes(row.kind)) throw bad(`unknown kind "${row.kind}"`);
  if (!ISO_UTC.test(row.time)) throw bad('time is not ISO-8601 UTC');
  if (!/^[0-9a-f]{64}$/.test(row.hash)) throw bad('hash is not 64 hex characters');
  let details: unknown;
  try {
    details = JSON.parse(row.details);
  } catch {
    throw bad('details are not JSON');
  }
  if (details === null || typeof details !== 'object' || Array.isArray(details)) throw bad('details are not a JSON object');
  const subject: AuditSubject = {
    ...(row.subjectName === null ? {} : { name: row.subjectName }),
    ...(row.subjectVersion === null ? {} : { version: row.subjectVersion }),
  };
  return { seq: row.seq, time: row.time, kind: row.kind as AuditKind, subject, actor: row.actor, details: details as { [key: string]: JsonValue }, hash: row.hash };
}

/** The row to store for an entry. */
export function toAuditRow(entry: AuditEntry, detailsJson: string): RawAuditRow {
  return {
    seq: entry.seq,
    time: entry.time,
    kind: entry.kind,
    subjectName: entry.subject.name ?? null,
    subjectVersion: entry.subject.version ?? null,
    actor: entry.actor,
    details: detailsJson,
    hash: entry.hash,
  };
}

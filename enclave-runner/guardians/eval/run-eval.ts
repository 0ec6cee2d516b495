import { GuardianError } from '../errors.js';
import type { InputGuardian } from '../input/input-guardian.js';
import { type DetectOptions, redact } from '../output/detect.js';
import { type ClassificationReport, type Outcome, classificationReport } from './classification.js';
import { PiiEvaluator, type PiiReport, type PiiRow } from './pii.js';

/** A prompt-injection row: `label` is "injection"/"benign" (or a boolean / 0-1). */
export interface LabelledPrompt {
  readonly text: string;
  readonly label: string | boolean | number;
  readonly subset?: string;
}

export type EvalKind = 'prompt-injection' | 'pii';

/** Parses JSONL, failing with ERR_GUARD_DATA and the line number on a bad line. */
export function parseJsonl(content: string): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim().length === 0) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new GuardianError('ERR_GUARD_DATA', `line ${i + 1} is not JSON`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new GuardianError('ERR_GUARD_DATA', `line ${i + 1} is not a JSON object`);
    rows.push(v as Record<string, unknown>);
  });
  if (rows.length === 0) throw new GuardianError('ERR_GUARD_DATA', 'the file has no rows');
  return rows;
}

/** `text` + `label` is prompt-injection data; `text` + `spans` is PII span data. */
export function detectKind(rows: ReadonlyArray<Record<string, unknown>>): EvalKind {
  const first = rows[0]!;
  if (typeof first.text !== 'string') throw new GuardianError('ERR_GUARD_DATA', 'rows need a "text" string');
  if ('label' in first) return 'prompt-injection';
  if (Array.isArray(first.spans)) return 'pii';
  throw new GuardianError('ERR_GUARD_DATA', 'rows have neither "label" (prompt-injection data) nor "spans" (PII span data)');
}

function isAttack(label: unknown, line: number): boolean {
  if (label === true || label === 1 || label === 'injection' || label === 'jailbreak' || label === 'malicious' || label === 'attack') return true;
  if (label === false || label === 0 || label === 'benign' || label === 'safe') return false;
  throw new GuardianError('ERR_GUARD_DATA', `row ${line}: label must be injection/benign (or true/false, 1/0)`);
}

/** Scans each row as a user message; a `block` verdict is a positive. */
export function evalPromptInjection(rows: ReadonlyArray<Record<string, unknown>>, guardian: InputGuardian, onProgress?: (done: number, total: number) => void): ClassificationReport {
  const outcomes: Outcome[] = rows.map((r, i) => {
    if (typeof r.text !== 'string') throw new GuardianError('ERR_GUARD_DATA', `row ${i + 1} has no "text" string`);
    const actual = isAttack(r.label, i + 1);
    const predicted = guardian.scan(r.text, 'user').verdict === 'block';
    if (onProgress && (i + 1) % 50 === 0) onProgress(i + 1, rows.length);
    return { actual, predicted, ...(typeof r.subset === 'string' ? { subset: r.subset } : {}) };
  });
  return classificationReport(outcomes);
}

/** Redacts each row and scores the redactions against the annotated spans. */
export function evalPii(rows: ReadonlyArray<Record<string, unknown>>, options: { readonly iou?: number; readonly detect?: DetectOptions } = {}, onProgress?: (done: number, total: number) => void): PiiReport {
  const ev = new PiiEvaluator(options.iou ?? 0.7);
  rows.forEach((r, i) => {
    if (typeof r.text !== 'string' || !Array.isArray(r.spans)) throw new GuardianError('ERR_GUARD_DATA', `row ${i + 1} needs "text" and "spans"`);
    const row = r as unknown as PiiRow;
    const out = redact(row.text, options.detect);
    ev.add(row, out.spans, out.text);
    if (onProgress && (i + 1) % 100 === 0) onProgress(i + 1, rows.length);
  });
  return ev.report();
}

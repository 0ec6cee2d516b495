import type { Span } from '../output/spans.js';

/** One row of a PII span file (Presidio's synth_dataset_v2 as shipped in ../shared/datasets/pii). */
export interface PiiRow {
  readonly text: string;
  readonly spans: ReadonlyArray<{ readonly start: number; readonly end: number; readonly type: string }>;
  readonly template_id?: number;
}

/** Dataset types -> the guardian's types (Presidio's own mapping puts GPE and STREET_ADDRESS under LOCATION). */
export const DATASET_TYPE_MAP: Readonly<Record<string, string>> = {
  PERSON: 'PERSON', EMAIL_ADDRESS: 'EMAIL_ADDRESS', PHONE_NUMBER: 'PHONE_NUMBER', CREDIT_CARD: 'CREDIT_CARD', IBAN_CODE: 'IBAN_CODE',
  US_SSN: 'US_SSN', US_DRIVER_LICENSE: 'US_DRIVER_LICENSE', IP_ADDRESS: 'IP_ADDRESS', GPE: 'LOCATION', STREET_ADDRESS: 'LOCATION',
};

/** Types in the data the guardian does not try to redact (organisations, dates, ages, titles, ...): excluded, as Presidio's evaluator excludes what a model does not support. */
export function outOfScope(type: string): boolean {
  return DATASET_TYPE_MAP[type] === undefined;
}

export interface TypeMetrics {
  readonly n: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f2: number;
}

export interface PiiReport {
  /** Entity-agnostic: any predicted span matching any in-scope annotation (Presidio's "PII" row). */
  readonly overall: TypeMetrics;
  readonly byType: Readonly<Record<string, TypeMetrics>>;
  /** Annotated types the guardian does not detect, with their counts (not in `overall`). */
  readonly outOfScope: Readonly<Record<string, number>>;
  readonly iouThreshold: number;
  /** Samples without any annotated entity whose text the redactor changed (goal: 0). */
  readonly entityFreeAltered: number;
  readonly entityFreeSamples: number;
  /** Fraction of in-scope entity values that no longer appear verbatim in the redacted text. */
  readonly valueRemovalRate: number;
}

interface Typed {
  readonly start: number;
  readonly end: number;
  readonly type: string;
}

export function f2(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (5 * precision * recall) / (4 * precision + recall);
}

function metrics(tp: number, fp: number, fn: number): TypeMetrics {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  return { n: tp + fn, tp, fp, fn, precision, recall, f2: f2(precision, recall) };
}

/**
 * Character IoU counting letters and digits only: whitespace, punctuation and line breaks at or inside a
 * span do not change the score (Presidio normalises tokens the same way before its IoU).
 */
export function iou(text: string, a: Typed, b: Typed): number {
  const lo = Math.min(a.start, b.start);
  const hi = Math.max(a.end, b.end);
  let inter = 0;
  let union = 0;
  for (let i = lo; i < hi; i++) {
    if (!/[\p{L}\p{N}]/u.test(text[i]!)) continue;
    const inA = i >= a.start && i < a.end;
    const inB = i >= b.start && i < b.end;
    if (inA && inB) inter++;
    if (inA || inB) union++;
  }
  return union === 0 ? 0 : inter / union;
}

/** Merges same-type spans separated only by whitespace and punctuation (Presidio's adjacent-span merge). */
export function mergeAdjacent(text: string, spans: readonly Typed[]): Typed[] {
  const sorted = [...spans].sort((x, y) => x.start - y.start);
  const out: Typed[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.type === s.type && s.start >= last.end && !/[\p{L}\p{N}]/u.test(text.slice(last.end, s.start))) {
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, s.end), type: s.type };
    } else out.push(s);
  }
  return out;
}

/** Greedy best-IoU matching of predictions to annotations; `typed` requires equal types. */
function match(text: string, gold: readonly Typed[], pred: readonly Typed[], threshold: number, typed: boolean): Array<[Typed, Typed]> {
  const used = new Set<Typed>();
  const pairs: Array<[Typed, Typed]> = [];
  for (const g of gold) {
    let best: Typed | undefined;
    let bestIou = 0;
    for (const p of pred) {
      if (used.has(p) || (typed && p.type !== g.type)) continue;
      const v = iou(text, g, p);
      if (v > bestIou) {
        bestIou = v;
        best = p;
      }
    }
    if (best !== undefined && bestIou >= threshold) {
      used.add(best);
      pairs.push([g, best]);
    }
  }
  return pairs;
}

/** Accumulates a span-level evaluation over rows. */
export class PiiEvaluator {
  private overall = { tp: 0, fp: 0, fn: 0 };
  private readonly types = new Map<string, { tp: number; fp: number; fn: number }>();
  private readonly skipped = new Map<string, number>();
  private altered = 0;
  private entityFree = 0;
  private values = 0;
  private removed = 0;

  constructor(readonly iouThreshold = 0.7) {}

  add(row: PiiRow, predicted: readonly Span[], redactedText: string): void {
    const gold: Typed[] = [];
    for (const s of row.spans) {
      const mapped = DATASET_TYPE_MAP[s.type];
      if (mapped === undefined) this.skipped.set(s.type, (this.skipped.get(s.type) ?? 0) + 1);
      else gold.push({ start: s.start, end: s.end, type: mapped });
    }
    if (row.spans.length === 0) {
      this.entityFree++;
      if (redactedText !== row.text) this.altered++;
    }
    for (const g of gold) {
      this.values++;
      if (!redactedText.includes(row.text.slice(g.start, g.end))) this.removed++;
    }
    const g = mergeAdjacent(row.text, gold);
    const p = mergeAdjacent(row.text, predicted.map((s) => ({ start: s.start, end: s.end, type: String(s.type) })));
    const any = match(row.text, g, p, this.iouThreshold, false).length;
    this.overall = { tp: this.overall.tp + any, fp: this.overall.fp + p.length - any, fn: this.overall.fn + g.length - any };
    const typedPairs = match(row.text, g, p, this.iouThreshold, true);
    for (const t of new Set([...g.map((x) => x.type), ...p.map((x) => x.type)])) {
      const tp = typedPairs.filter(([x]) => x.type === t).length;
      const c = this.types.get(t) ?? { tp: 0, fp: 0, fn: 0 };
      c.tp += tp;
      c.fp += p.filter((x) => x.type === t).length - tp;
      c.fn += g.filter((x) => x.type === t).length - tp;
      this.types.set(t, c);
    }
  }

  report(): PiiReport {
    const byType: Record<string, TypeMetrics> = {};
    for (const t of [...this.types.keys()].sort()) {
      const c = this.types.get(t)!;
      byType[t] = metrics(c.tp, c.fp, c.fn);
    }
    return {
      overall: metrics(this.overall.tp, this.overall.fp, this.overall.fn),
      byType,
      outOfScope: Object.fromEntries([...this.skipped].sort()),
      iouThreshold: this.iouThreshold,
      entityFreeAltered: this.altered,
      entityFreeSamples: this.entityFree,
      valueRemovalRate: this.values === 0 ? 1 : this.removed / this.values,
    };
  }
}

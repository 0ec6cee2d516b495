/** Confusion counts and the rates derived from them; `positive` is the attack class. */
export interface BinaryMetrics {
  readonly n: number;
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** False-positive rate on benign rows. */
  readonly fpr: number;
  /** PINT's score: mean of recall on attacks and specificity on benign rows. */
  readonly balancedAccuracy: number;
}

/** One labelled prediction. */
export interface Outcome {
  readonly actual: boolean;
  readonly predicted: boolean;
  readonly subset?: string;
}

/**
 * Metrics of `outcomes`. Rates with an empty denominator are reported as NaN-free conventions: precision
 * 1 with no predicted positive, recall 1 with no actual positive, FPR 0 with no benign row; balanced
 * accuracy then averages only the classes present.
 */
export function binaryMetrics(outcomes: Iterable<Outcome>): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (const o of outcomes) {
    if (o.predicted && o.actual) tp++;
    else if (o.predicted) fp++;
    else if (o.actual) fn++;
    else tn++;
  }
  const pos = tp + fn;
  const neg = fp + tn;
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = pos === 0 ? 1 : tp / pos;
  const fpr = neg === 0 ? 0 : fp / neg;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const parts = [...(pos > 0 ? [recall] : []), ...(neg > 0 ? [1 - fpr] : [])];
  const balancedAccuracy = parts.length === 0 ? 1 : parts.reduce((a, b) => a + b, 0) / parts.length;
  return { n: tp + fp + tn + fn, tp, fp, tn, fn, precision, recall, f1, fpr, balancedAccuracy };
}

/** Overall and per-subset metrics, the shape `zt4ai guard eval --json` prints. */
export interface ClassificationReport {
  readonly overall: BinaryMetrics;
  readonly bySubset: Readonly<Record<string, BinaryMetrics>>;
}

export function classificationReport(outcomes: readonly Outcome[]): ClassificationReport {
  const groups = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const key = o.subset ?? '(none)';
    const list = groups.get(key) ?? [];
    list.push(o);
    groups.set(key, list);
  }
  const bySubset: Record<string, BinaryMetrics> = {};
  for (const key of [...groups.keys()].sort()) bySubset[key] = binaryMetrics(groups.get(key)!);
  return { overall: binaryMetrics(outcomes), bySubset };
}

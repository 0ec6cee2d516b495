import type { Featurizer, SparseVector } from '../../enclave-runner/guardians/input/features.js';
import { ruleTokens, sentenceWindows } from '../../enclave-runner/guardians/input/classifier.js';
import { matchRules } from '../../enclave-runner/guardians/input/rules.js';
import { mainViews } from '../../enclave-runner/guardians/input/views.js';
import { normalise } from '../../enclave-runner/guardians/text/normalise.js';
import type { LabelledRow } from './data.js';
import { syntheticBenign } from './synthetic-benign.js';

/** Training examples: features, label (1 = injection) and relative weight. */
export interface Examples {
  readonly xs: SparseVector[];
  readonly ys: number[];
  readonly weights: number[];
  readonly counts: { rows: number; benignWindows: number; extractedInjections: number; syntheticBenign: number };
}

export interface ExampleOptions {
  readonly windowChars: number;
  /** Each row weighs subsetSize^-subsetPower: big subsets (translations, templates) do not drown small ones. */
  readonly subsetPower: number;
  /** Generated ordinary requests added as benign rows (see synthetic-benign.ts), and the PRNG seed. */
  readonly syntheticBenign: number;
  readonly seed: number;
}

/**
 * Whole rows, plus two views that teach "instructions inside data" from the training split alone:
 * windows of long benign rows (benign fragments of documents), and the injected strings recovered by
 * diffing each synthetic injected document against its clean twin (both are train rows of one group).
 */
export function buildExamples(rows: readonly LabelledRow[], fz: Featurizer, opts: ExampleOptions): Examples {
  const size = new Map<string, number>();
  for (const r of rows) size.set(r.subset, (size.get(r.subset) ?? 0) + 1);
  const weightOf = (subset: string) => (size.get(subset) ?? 1) ** -opts.subsetPower;
  const out: Examples = { xs: [], ys: [], weights: [], counts: { rows: 0, benignWindows: 0, extractedInjections: 0, syntheticBenign: 0 } };
  // Whole texts carry their rule hits as extra features, exactly as the guardian computes them.
  const add = (raw: string, y: number, w: number, windowText?: string) => {
    const norm = normalise(raw);
    out.xs.push(windowText === undefined ? fz.featurize(norm.folded, ruleTokens(matchRules(mainViews(raw, norm)))) : fz.featurize(windowText));
    out.ys.push(y);
    out.weights.push(w);
  };
  for (const r of rows) {
    add(r.text, r.label === 'injection' ? 1 : 0, weightOf(r.subset));
    out.counts.rows++;
  }
  for (const r of rows) {
    const text = normalise(r.text).folded;
    if (r.label !== 'benign' || text.length <= opts.windowChars * 1.5) continue;
    for (const w of sentenceWindows(text, opts.windowChars)) {
      add(r.text, 0, weightOf(r.subset), w);
      out.counts.benignWindows++;
    }
  }
  const injected = extractInjections(rows);
  for (const s of injected) add(s, 1, injected.length ** -opts.subsetPower);
  out.counts.extractedInjections = injected.length;
  const generated = syntheticBenign(opts.syntheticBenign, opts.seed);
  for (const s of generated) add(s, 0, generated.length ** -opts.subsetPower);
  out.counts.syntheticBenign = generated.length;
  return out;
}

/** The inserted strings of synthetic injected documents, by common prefix/suffix with the clean copy. */
export function extractInjections(rows: readonly LabelledRow[]): string[] {
  const clean = rows.filter((r) => r.subset === 'synthetic-indirect-clean-doc').map((r) => r.text);
  const found: string[] = [];
  for (const r of rows) {
    if (r.subset !== 'synthetic-indirect-injected') continue;
    for (const c of clean) {
      if (r.text.length <= c.length) continue;
      const p = commonPrefix(r.text, c);
      const s = commonSuffix(r.text, c);
      if (p + s < c.length - 2) continue;
      const mid = r.text.slice(p, r.text.length - Math.min(s, r.text.length - p)).trim();
      if (mid.length >= 4) found.push(mid);
      break;
    }
  }
  return found;
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function commonSuffix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

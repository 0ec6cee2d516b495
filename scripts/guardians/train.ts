/**
 * Trains the input guardian's classifier on ../shared/datasets/prompt-injection/train.jsonl, calibrates
 * it and tunes its thresholds on dev.jsonl, and writes enclave-runner/guardians/input/model-weights.ts.
 *
 *   npx tsx scripts/guardians/train.ts            # about a minute on 2 cores
 *
 * Deterministic: full-batch L-BFGS from zero weights, rows in file order; the only randomness, the choice
 * of generated benign requests, comes from a fixed-seed PRNG. The same data gives the same file byte for byte.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FeatureSpec, Featurizer } from '../../enclave-runner/guardians/input/features.js';
import { InputGuardian } from '../../enclave-runner/guardians/input/input-guardian.js';
import { type ModelFile, loadModel } from '../../enclave-runner/guardians/input/model.js';
import { classify, ruleTokens } from '../../enclave-runner/guardians/input/classifier.js';
import { matchRules } from '../../enclave-runner/guardians/input/rules.js';
import { mainViews } from '../../enclave-runner/guardians/input/views.js';
import { normalise } from '../../enclave-runner/guardians/text/normalise.js';
import { fitPlatt, roundThreshold } from './calibrate.js';
import { type LabelledRow, SHARED_DATASETS, readSplit } from './data.js';
import { fitLogistic } from './lbfgs.js';
import { buildExamples } from './train-data.js';

export const HYPER = {
  spec: { bits: 16, charMin: 3, charMax: 5, wordWeight: 1, extraWeight: 1 } satisfies FeatureSpec,
  l2: 3e-5,
  iterations: 150,
  subsetPower: 0.5,
  syntheticBenign: 300,
  seed: 6,
  /** About one sentence: an injected instruction is rarely longer, and a longer window dilutes it. */
  windowChars: 80,
  /** Candidate offsets for the user-message window score; the dev split picks one. */
  userWindowOffsets: [0, 0.5, 1, 1.5, 2, 3],
  /** Block threshold: best dev balanced accuracy with FPR at most this (half the 2% goal: unseen benign text is harder). */
  maxBlockFpr: 0.01,
  /** Flag threshold: best dev recall with FPR at most this. */
  maxFlagFpr: 0.05,
} as const;

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../../enclave-runner/guardians/input/model-weights.ts');

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function quantise(w: Float64Array): { scale: number; bytes: Int8Array } {
  let max = 0;
  for (const x of w) max = Math.max(max, Math.abs(x));
  const scale = max / 127;
  const bytes = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) bytes[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale)));
  return { scale, bytes };
}

interface Tuned {
  readonly offset: number;
  readonly platt: { a: number; b: number };
  readonly block: number;
  readonly flag: number;
  readonly balancedAccuracy: number;
  readonly fpr: number;
}

/** For one window offset: Platt on dev logits, then thresholds on the full guardian's dev decisions. */
function tune(base: ModelFile, dev: readonly LabelledRow[], offset: number): Tuned {
  const probe = loadModel({ ...base, userWindowOffset: offset });
  const ys = dev.map((r) => (r.label === 'injection' ? 1 : 0));
  const zs = dev.map((r) => {
    const norm = normalise(r.text);
    return classify(probe, norm.folded, 'user', ruleTokens(matchRules(mainViews(r.text, norm)))).logit;
  });
  const platt = fitPlatt(zs, ys);
  const guardian = new InputGuardian({ model: loadModel({ ...base, userWindowOffset: offset, platt }) });
  const scans = dev.map((r) => guardian.scan(r.text, 'user'));
  // Decisions other layers force regardless of the classifier threshold.
  const forced = scans.map((s) => s.layers.some((l) => l.layer !== 'classifier' && l.verdict === 'block'));
  const scores = scans.map((s) => (s.layers.find((l) => l.layer === 'classifier') as { score: number }).score);
  const candidates = [...new Set(scores)].sort((a, b) => a - b);
  const rate = (t: number) => {
    let tp = 0;
    let fp = 0;
    dev.forEach((_, i) => {
      if (!(forced[i] || scores[i]! >= t)) return;
      if (ys[i] === 1) tp++;
      else fp++;
    });
    const pos = ys.filter((y) => y === 1).length;
    const recall = tp / pos;
    const fpr = fp / (ys.length - pos);
    return { recall, fpr, bal: (recall + 1 - fpr) / 2 };
  };
  let block = 1;
  let best = rate(1);
  let flag = 1;
  let bestFlagRecall = -1;
  for (let k = 0; k < candidates.length; k++) {
    const t = k === 0 ? candidates[0]! : (candidates[k]! + candidates[k - 1]!) / 2;
    const r = rate(t);
    if (r.fpr <= HYPER.maxBlockFpr && r.bal > best.bal) {
      best = r;
      block = t;
    }
    if (r.fpr <= HYPER.maxFlagFpr && r.recall > bestFlagRecall) {
      bestFlagRecall = r.recall;
      flag = t;
    }
  }
  return { offset, platt, block: roundThreshold(block), flag: roundThreshold(Math.min(flag, block)), balancedAccuracy: best.bal, fpr: best.fpr };
}

function main(): void {
  const started = Date.now();
  const log = (msg: string) => console.error(`[train ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
  const train = readSplit('train');
  const dev = readSplit('dev');
  const fz = new Featurizer(HYPER.spec);
  const ex = buildExamples(train, fz, { windowChars: HYPER.windowChars, subsetPower: HYPER.subsetPower, syntheticBenign: HYPER.syntheticBenign, seed: HYPER.seed });
  log(`${ex.counts.rows} rows, ${ex.counts.benignWindows} benign windows, ${ex.counts.extractedInjections} recovered injections, ${ex.counts.syntheticBenign} generated benign requests`);
  const fit = fitLogistic(ex.xs, ex.ys, {
    dim: 1 << HYPER.spec.bits,
    l2: HYPER.l2,
    iterations: HYPER.iterations,
    sampleWeights: ex.weights,
    onIteration: (i, loss) => {
      if (i % 25 === 0) log(`iteration ${i} loss ${loss.toFixed(5)}`);
    },
  });
  const q = quantise(fit.weights);
  const base: ModelFile = {
    format: 'zt4ai-guardian-lr/1',
    spec: HYPER.spec,
    bias: fit.bias,
    scale: q.scale,
    weights: Buffer.from(q.bytes.buffer).toString('base64'),
    platt: { a: 1, b: 0 },
    windowChars: HYPER.windowChars,
    userWindowOffset: 0,
    thresholds: { flag: 0.5, block: 0.9 },
    provenance: {
      train: `train.jsonl sha256 ${sha256File(resolve(SHARED_DATASETS, 'prompt-injection/train.jsonl'))}`,
      dev: `dev.jsonl sha256 ${sha256File(resolve(SHARED_DATASETS, 'prompt-injection/dev.jsonl'))}`,
      trainedBy: 'scripts/guardians/train.ts',
      seed: HYPER.seed,
    },
  };
  const tuned = HYPER.userWindowOffsets.map((o) => tune(base, dev, o));
  for (const t of tuned) log(`offset ${t.offset}: dev balanced accuracy ${t.balancedAccuracy.toFixed(4)} FPR ${t.fpr.toFixed(4)} block >= ${t.block} flag >= ${t.flag}`);
  const pick = tuned.reduce((a, b) => (b.balancedAccuracy > a.balancedAccuracy ? b : a));
  const model: ModelFile = { ...base, userWindowOffset: pick.offset, platt: pick.platt, thresholds: { flag: pick.flag, block: pick.block } };
  writeFileSync(OUT, render(model));
  log(`wrote ${OUT} (${(model.weights.length / 1024).toFixed(0)} KiB of base64); offset ${pick.offset}, block >= ${pick.block}, flag >= ${pick.flag}`);
}

function render(model: ModelFile): string {
  const { weights, ...rest } = model;
  return [
    '// Generated by scripts/guardians/train.ts: do not edit. Int8 weights, base64 (see model.ts for the format).',
    "import type { ModelFile } from './model.js';",
    '',
    `const META = ${JSON.stringify(rest, null, 2)} as const;`,
    '',
    `export const COMMITTED_MODEL: ModelFile = { ...META, weights: '${weights}' };`,
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('train.ts')) main();

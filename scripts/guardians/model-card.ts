/**
 * Regenerates the measured numbers of enclave-runner/guardians/MODEL_CARD.md (between the
 * `<!-- metrics:start -->` and `<!-- metrics:end -->` markers) from the committed model and ../shared:
 *
 *   npx tsx scripts/guardians/model-card.ts          # rewrite the card
 *   npx tsx scripts/guardians/model-card.ts --check  # exit 1 if the card differs (what the test asserts)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BinaryMetrics } from '../../enclave-runner/guardians/eval/classification.js';
import type { PiiReport } from '../../enclave-runner/guardians/eval/pii.js';
import { evalPii, evalPromptInjection, parseJsonl } from '../../enclave-runner/guardians/eval/run-eval.js';
import { InputGuardian } from '../../enclave-runner/guardians/input/input-guardian.js';
import { SHARED_DATASETS } from './data.js';

export const CARD = resolve(dirname(fileURLToPath(import.meta.url)), '../../enclave-runner/guardians/MODEL_CARD.md');

const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Rates without a denominator in a subset (recall of an all-benign subset, FPR of an all-attack one) show as a dash. */
function row(name: string, m: BinaryMetrics): string {
  const pos = m.tp + m.fn > 0;
  const neg = m.fp + m.tn > 0;
  const p = (ok: boolean, x: number) => (ok ? f3(x) : '—');
  return `| ${name} | ${m.n} | ${m.tp + m.fn} | ${p(pos, m.precision)} | ${p(pos, m.recall)} | ${p(pos, m.f1)} | ${neg ? pct(m.fpr) : '—'} | ${f3(m.balancedAccuracy)} |`;
}

function piiTable(title: string, r: PiiReport): string[] {
  return [
    `${title} (span-level, character IoU >= ${r.iouThreshold})`,
    '',
    '| entity | n | precision | recall | F2 |',
    '|---|---:|---:|---:|---:|',
    `| **PII (any type)** | ${r.overall.n} | ${f3(r.overall.precision)} | ${f3(r.overall.recall)} | **${f3(r.overall.f2)}** |`,
    ...Object.entries(r.byType).map(([t, m]) => `| ${t} | ${m.n} | ${f3(m.precision)} | ${f3(m.recall)} | ${f3(m.f2)} |`),
    '',
    `Entity-free samples altered: ${r.entityFreeAltered} of ${r.entityFreeSamples}. Entity values no longer present after redaction: ${pct(r.valueRemovalRate)}.`,
    '',
  ];
}

/** The generated block: prompt-injection metrics per split and subset, PII metrics per type. */
export function metricsBlock(): string {
  const guardian = new InputGuardian();
  const read = (p: string) => parseJsonl(readFileSync(resolve(SHARED_DATASETS, p), 'utf8'));
  const train = evalPromptInjection(read('prompt-injection/train.jsonl'), guardian);
  const dev = evalPromptInjection(read('prompt-injection/dev.jsonl'), guardian);
  const pii = read('pii/eval.jsonl');
  const even = pii.filter((r) => Number(r.template_id) % 2 === 0);
  const odd = pii.filter((r) => Number(r.template_id) % 2 === 1);
  const t = guardian.policy.user;
  return [
    `Thresholds (calibrated score): flag >= ${t.flag}, block >= ${t.block}. Positive = a \`block\` verdict.`,
    '',
    '| split / subset | rows | attacks | precision | recall | F1 | FPR | balanced accuracy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('**train** (fitted on)', train.overall),
    row('**dev** (tuned on)', dev.overall),
    ...Object.entries(dev.bySubset).map(([k, m]) => row(`dev: ${k}`, m)),
    '',
    ...piiTable('PII, whole eval.jsonl', evalPii(pii, { iou: 0.7 })),
    ...piiTable('PII, whole eval.jsonl, stricter match', evalPii(pii, { iou: 0.9 })),
    ...piiTable('PII, even template ids only (the half the heuristics were developed on)', evalPii(even, { iou: 0.7 })),
    ...piiTable('PII, odd template ids only (held out while developing)', evalPii(odd, { iou: 0.7 })),
  ].join('\n');
}

export function withMetrics(card: string, block: string): string {
  return card.replace(/(<!-- metrics:start -->)[\s\S]*?(<!-- metrics:end -->)/, `$1\n${block}\n$2`);
}

if (process.argv[1]?.endsWith('model-card.ts')) {
  const card = readFileSync(CARD, 'utf8');
  const next = withMetrics(card, metricsBlock());
  if (process.argv.includes('--check')) {
    if (next !== card) {
      console.error('MODEL_CARD.md metrics differ from the committed model: run npx tsx scripts/guardians/model-card.ts');
      process.exitCode = 1;
    }
  } else writeFileSync(CARD, next);
}

import type { BinaryMetrics, ClassificationReport } from './eval/classification.js';
import type { PiiReport, TypeMetrics } from './eval/pii.js';
import type { ScanResult } from './input/input-guardian.js';
import type { LayerReport } from './input/layers.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const f3 = (x: number) => x.toFixed(3);

/** One line per layer: what it found, without quoting the input. */
export function describeLayer(l: LayerReport): string {
  const mark = l.fired ? (l.verdict === 'allow' ? 'noted' : l.verdict) : 'quiet';
  switch (l.layer) {
    case 'allow-list':
      return `  allow-list  ${mark}: matched by ${l.match ?? 'nothing'}`;
    case 'size':
      return `  size        ${mark}: ${l.chars} characters, limit ${l.limit}`;
    case 'normalise': {
      const f = l.findings;
      return `  normalise   ${mark}: ${f.invisibleRemoved} invisible removed, ${f.confusablesFolded} look-alikes folded, ${f.mixedScriptWords} mixed-script words, ${f.leetWords} leetspeak words, ${f.hiddenTagChars} hidden tag characters`;
    }
    case 'decode':
      return `  decode      ${mark}: ${l.payloads.length === 0 ? 'no encoded payload' : l.payloads.map((p) => `${p.encoding} (depth ${p.depth}, ${p.chars} chars)`).join(', ')}${l.truncated ? ', limits reached' : ''}`;
    case 'rules':
      return `  rules       ${mark}: ${l.hits.length === 0 ? 'no rule fired' : l.hits.map((h) => `${h.id} [${h.severity}, in ${h.view}]`).join(', ')}`;
    case 'classifier':
      return `  classifier  ${mark}: score ${f3(l.score)} (flag >= ${l.thresholds.flag}, block >= ${l.thresholds.block}; from ${l.view})`;
  }
}

export function describeScan(r: ScanResult): string {
  return [`verdict: ${r.verdict} (score ${f3(r.score)})`, ...r.layers.map(describeLayer), ''].join('\n');
}

function metricsRow(name: string, m: BinaryMetrics): string {
  const pos = m.tp + m.fn > 0;
  const p = (x: number) => (pos ? f3(x) : '  —  ');
  const fpr = m.fp + m.tn > 0 ? pct(m.fpr) : '—';
  return `${name.padEnd(36)} ${String(m.n).padStart(5)}  ${p(m.precision)}  ${p(m.recall)}  ${p(m.f1)}  ${fpr.padStart(6)}  ${f3(m.balancedAccuracy)}`;
}

export function describeClassification(r: ClassificationReport): string {
  const head = `${'subset'.padEnd(36)} ${'n'.padStart(5)}  prec.  recall F1     FPR     bal.acc`;
  return [head, metricsRow('overall', r.overall), ...Object.entries(r.bySubset).map(([k, m]) => metricsRow(k, m)), '(positive = a block verdict; a flag counts as allowed)', ''].join('\n');
}

function typeRow(name: string, m: TypeMetrics): string {
  return `${name.padEnd(20)} ${String(m.n).padStart(5)}  ${f3(m.precision)}  ${f3(m.recall)}  ${f3(m.f2)}`;
}

export function describePii(r: PiiReport): string {
  return [
    `${'entity'.padEnd(20)} ${'n'.padStart(5)}  prec.  recall F2`,
    typeRow('PII (any type)', r.overall),
    ...Object.entries(r.byType).map(([k, m]) => typeRow(k, m)),
    `span-level, character IoU >= ${r.iouThreshold} over letters and digits; adjacent same-type spans merged`,
    `not detected by design (excluded): ${Object.entries(r.outOfScope).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `entity-free samples altered: ${r.entityFreeAltered} of ${r.entityFreeSamples}; entity values removed from the output: ${pct(r.valueRemovalRate)}`,
    '',
  ].join('\n');
}

/**
 * PII span evaluation split by generator template: even template ids are the development half (the
 * heuristics were tuned on them), odd ids the held-out half. Prints whole / even / odd F2 and per type.
 *   npx tsx scripts/guardians/pii-split-eval.ts [../shared/datasets/pii/eval.jsonl] [--json] [--errors even|odd|all]
 * `--errors` lists the misses and false alarms of a half (use only `even` while developing).
 */
import { readFileSync } from 'node:fs';
import { iou, mergeAdjacent, DATASET_TYPE_MAP, type PiiReport } from '../../enclave-runner/guardians/eval/pii.js';
import { evalPii, parseJsonl } from '../../enclave-runner/guardians/eval/run-eval.js';
import { redact } from '../../enclave-runner/guardians/output/detect.js';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !['even', 'odd', 'all'].includes(a)) ?? '../shared/datasets/pii/eval.jsonl';
const json = args.includes('--json');
const errorsAt = args.indexOf('--errors');
const errorsHalf = errorsAt >= 0 ? args[errorsAt + 1] : undefined;

const rows = parseJsonl(readFileSync(file, 'utf8'));
const half = (r: Record<string, unknown>) => (Number(r.template_id) % 2 === 0 ? 'even' : 'odd');
const sets = { whole: rows, even: rows.filter((r) => half(r) === 'even'), odd: rows.filter((r) => half(r) === 'odd') };

function line(name: string, r: PiiReport, n: number): string {
  const o = r.overall;
  const types = Object.entries(r.byType)
    .map(([t, m]) => `${t} ${m.f2.toFixed(3)} (P ${m.precision.toFixed(3)} R ${m.recall.toFixed(3)}, n ${m.n})`)
    .join('; ');
  return `${name} (${n} rows): F2 ${o.f2.toFixed(3)} P ${o.precision.toFixed(3)} R ${o.recall.toFixed(3)} (tp ${o.tp} fp ${o.fp} fn ${o.fn}); entity-free altered ${r.entityFreeAltered}/${r.entityFreeSamples}\n  ${types}\n`;
}

if (errorsHalf !== undefined) {
  for (const r of errorsHalf === 'all' ? rows : rows.filter((x) => half(x) === errorsHalf)) {
    const text = r.text as string;
    const spans = (r.spans as Array<{ start: number; end: number; type: string }>).filter((s) => DATASET_TYPE_MAP[s.type] !== undefined);
    const gold = mergeAdjacent(text, spans.map((s) => ({ ...s, type: DATASET_TYPE_MAP[s.type]! })));
    const pred = mergeAdjacent(text, redact(text).spans.map((s) => ({ start: s.start, end: s.end, type: String(s.type) })));
    const miss = gold.filter((g) => !pred.some((p) => p.type === g.type && iou(text, g, p) >= 0.7));
    const fa = pred.filter((p) => !gold.some((g) => p.type === g.type && iou(text, g, p) >= 0.7));
    if (miss.length + fa.length === 0) continue;
    const show = (s: { start: number; end: number; type: string }) => `${s.type}:${JSON.stringify(text.slice(s.start, s.end))}`;
    console.log(`#${String(r.template_id)} ${JSON.stringify(text)}\n  miss: ${miss.map(show).join(' | ')}\n  false: ${fa.map(show).join(' | ')}`);
  }
} else {
  const reports = Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, evalPii(v)]));
  if (json) console.log(JSON.stringify(reports, null, 2));
  else for (const [k, v] of Object.entries(sets)) process.stdout.write(line(k, reports[k]!, v.length));
}

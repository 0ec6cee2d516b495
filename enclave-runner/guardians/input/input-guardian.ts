import { GuardianError } from '../errors.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits, decodePayloads } from '../text/decode.js';
import { type Normalised, normalise } from '../text/normalise.js';
import { type TextKind, classify, ruleTokens } from './classifier.js';
import type { ClassifierLayer, DecodeLayer, LayerReport, NormaliseLayer, RulesLayer } from './layers.js';
import { type LoadedModel, loadModel } from './model.js';
import { COMMITTED_MODEL } from './model-weights.js';
import { AllowList, type GuardPolicy, type Thresholds, type Verdict, resolvePolicy, stricter } from './policy.js';
import { type RuleHit, matchRules } from './rules.js';
import { mainViews } from './views.js';

/** The verdict on one text, with every layer's explanation. Never contains the text itself. */
export interface ScanResult {
  readonly verdict: Verdict;
  /** max(classifier probability, rule-implied score) in [0, 1]: 0.99 for a blocking rule, the flag threshold for a flagging rule. */
  readonly score: number;
  readonly kind: TextKind;
  readonly layers: readonly LayerReport[];
  /** Ids of the rules that fired. */
  readonly rules: readonly string[];
}

export interface InputGuardianOptions {
  readonly policy?: Partial<GuardPolicy>;
  /** Default: the committed model. */
  readonly model?: LoadedModel;
  readonly decodeLimits?: DecodeLimits;
}

const BLOCK_RULE_SCORE = 0.99;
let committed: LoadedModel | undefined;

/** The committed model, decoded once per process. */
export function committedModel(): LoadedModel {
  committed ??= loadModel(COMMITTED_MODEL);
  return committed;
}

/**
 * The input guardian: normalisation, decoding, rules and the classifier, each explaining itself.
 * Synchronous and allocation-light: one scan of a 1 KiB prompt takes well under a millisecond.
 */
export class InputGuardian {
  readonly policy: GuardPolicy;
  private readonly model: LoadedModel;
  private readonly allow: AllowList;
  private readonly limits: DecodeLimits;

  constructor(options: InputGuardianOptions = {}) {
    this.model = options.model ?? committedModel();
    this.policy = resolvePolicy(this.model.file.thresholds, options.policy);
    this.allow = new AllowList(this.policy.allowList);
    this.limits = options.decodeLimits ?? DEFAULT_DECODE_LIMITS;
  }

  /** Scans one text: the user's message (`user`) or a document / tool output it carries (`document`). */
  scan(raw: string, kind: TextKind = 'user'): ScanResult {
    if (typeof raw !== 'string') throw new GuardianError('ERR_GUARD_INPUT', 'expected a string');
    const thresholds = kind === 'user' ? this.policy.user : this.policy.document;
    if (raw.length > this.policy.maxInputChars) {
      return { verdict: 'block', score: 1, kind, rules: [], layers: [{ layer: 'size', fired: true, verdict: 'block', chars: raw.length, limit: this.policy.maxInputChars }] };
    }
    const norm = normalise(raw);
    if (!this.allow.empty) {
      const match = this.allow.match(raw, norm.text);
      if (match !== null) return { verdict: 'allow', score: 0, kind, rules: [], layers: [{ layer: 'allow-list', fired: true, verdict: 'allow', match }] };
    }
    const decoded = decodePayloads(raw, norm.findings.hiddenTagText, this.limits);
    const views = mainViews(raw, norm);
    const decodedViews = decoded.payloads.map((p) => ({ encoding: p.encoding, norm: normalise(p.text), raw: p.text }));
    for (const d of decodedViews) views.push({ name: d.encoding, text: d.norm.folded, raw: false }, { name: d.encoding, text: d.raw, raw: true });
    const hits = matchRules(views);
    const rules = this.rulesLayer(hits);
    const own = hits.filter((h) => h.view === 'text' || h.view === 'raw' || h.view === 'leetspeak');
    const classifier = this.classifierLayer(norm, ruleTokens(own), decodedViews, kind, thresholds);
    const normaliseLayer = normaliseReport(norm);
    const decodeLayer = decodeReport(decoded.payloads, decoded.truncated, hits, classifier);
    const layers: LayerReport[] = [normaliseLayer, decodeLayer, rules, classifier];
    const verdict = layers.reduce<Verdict>((v, l) => stricter(v, l.verdict), 'allow');
    const ruleScore = rules.verdict === 'block' ? BLOCK_RULE_SCORE : rules.verdict === 'flag' ? thresholds.flag : 0;
    return { verdict, score: Math.max(classifier.score, ruleScore), kind, layers, rules: hits.map((h) => h.id) };
  }

  private rulesLayer(hits: readonly RuleHit[]): RulesLayer {
    let verdict: Verdict = 'allow';
    for (const h of hits) verdict = stricter(verdict, this.policy.familyActions[h.family] ?? h.severity);
    return { layer: 'rules', fired: hits.length > 0, verdict, hits };
  }

  private classifierLayer(norm: Normalised, extras: readonly string[], decoded: ReadonlyArray<{ encoding: string; norm: Normalised }>, kind: TextKind, thresholds: Thresholds): ClassifierLayer {
    const main = classify(this.model, norm.folded, kind, extras);
    let score = main.probability;
    let view = main.fromWindow ? 'window' : 'text';
    // Decoded payloads are data smuggled inside the message: scored as documents (no user offset).
    for (const d of decoded) {
      const s = classify(this.model, d.norm.folded, 'document').probability;
      if (s > score) {
        score = s;
        view = d.encoding;
      }
    }
    const verdict: Verdict = score >= thresholds.block ? 'block' : score >= thresholds.flag ? 'flag' : 'allow';
    return { layer: 'classifier', fired: verdict !== 'allow', verdict, score, thresholds, view };
  }
}

function normaliseReport(norm: Normalised): NormaliseLayer {
  const { hiddenTagText, ...rest } = norm.findings;
  const changed = rest.invisibleRemoved + rest.confusablesFolded + rest.leetWords + rest.mixedScriptWords > 0 || hiddenTagText.length > 0;
  // Hidden tag characters and several spoofed words have no innocent use in a prompt: flag for review.
  const verdict: Verdict = hiddenTagText.length > 0 || rest.mixedScriptWords >= 3 ? 'flag' : 'allow';
  return { layer: 'normalise', fired: changed, verdict, findings: { ...rest, hiddenTagChars: hiddenTagText.length } };
}

function decodeReport(payloads: ReadonlyArray<{ encoding: DecodeLayer['payloads'][number]['encoding']; depth: number; text: string }>, truncated: boolean, hits: readonly RuleHit[], classifier: ClassifierLayer): DecodeLayer {
  const encodings = new Set(payloads.map((p) => p.encoding as string));
  const smuggled = hits.some((h) => encodings.has(h.view) && h.severity === 'block') || (encodings.has(classifier.view) && classifier.verdict === 'block');
  // A payload that carries an attack is blocked by the rules or classifier; the decode layer adds a flag
  // for nesting deeper than the limits, which no honest prompt needs.
  const verdict: Verdict = smuggled ? 'block' : truncated ? 'flag' : 'allow';
  return { layer: 'decode', fired: payloads.length > 0, verdict, truncated, payloads: payloads.map((p) => ({ encoding: p.encoding, depth: p.depth, chars: p.text.length })) };
}

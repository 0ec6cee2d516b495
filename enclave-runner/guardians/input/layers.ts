import type { Encoding } from '../text/decode.js';
import type { NormaliseFindings } from '../text/normalise.js';
import type { Verdict } from './policy.js';
import type { RuleHit } from './rules.js';

/** Each layer says whether it fired, what it contributed to the verdict, and why, without quoting the input. */
interface LayerBase {
  readonly fired: boolean;
  /** The verdict this layer alone asks for. */
  readonly verdict: Verdict;
}

export interface AllowListLayer extends LayerBase {
  readonly layer: 'allow-list';
  readonly match: 'exact' | 'sha256' | null;
}

export interface SizeLayer extends LayerBase {
  readonly layer: 'size';
  readonly chars: number;
  readonly limit: number;
}

export interface NormaliseLayer extends LayerBase {
  readonly layer: 'normalise';
  readonly findings: Omit<NormaliseFindings, 'hiddenTagText'> & { readonly hiddenTagChars: number };
}

export interface DecodeLayer extends LayerBase {
  readonly layer: 'decode';
  readonly payloads: ReadonlyArray<{ readonly encoding: Encoding; readonly depth: number; readonly chars: number }>;
  /** A decoding limit was reached: nesting that deep is itself suspicious. */
  readonly truncated: boolean;
}

export interface RulesLayer extends LayerBase {
  readonly layer: 'rules';
  readonly hits: readonly RuleHit[];
}

export interface ClassifierLayer extends LayerBase {
  readonly layer: 'classifier';
  /** Calibrated probability of the highest-scoring view (the text or a decoded payload). */
  readonly score: number;
  readonly thresholds: { readonly flag: number; readonly block: number };
  /** Which view scored highest: `text`, `window` (a window of sentences), or an encoding. */
  readonly view: string;
}

export type LayerReport = AllowListLayer | SizeLayer | NormaliseLayer | DecodeLayer | RulesLayer | ClassifierLayer;

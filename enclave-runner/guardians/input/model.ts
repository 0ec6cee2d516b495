import { GuardianError } from '../errors.js';
import { type FeatureSpec, Featurizer } from './features.js';

/**
 * The committed classifier as stored on disk (`model-weights.ts`): Int8-quantised logistic-regression
 * weights over hashed n-grams, the Platt calibration and thresholds tuned on the dev split, and where
 * it came from. Written by scripts/guardians/train.ts.
 */
export interface ModelFile {
  readonly format: 'zt4ai-guardian-lr/1';
  readonly spec: FeatureSpec;
  readonly bias: number;
  /** weight = int8 * scale */
  readonly scale: number;
  /** base64 of the Int8 weight table, 2^bits entries. */
  readonly weights: string;
  /** calibrated probability = sigmoid(a * logit + b), fitted on dev. */
  readonly platt: { readonly a: number; readonly b: number };
  /** Windows of about this many characters are scored too, so an instruction hidden in a long text is not averaged away. */
  readonly windowChars: number;
  /** Subtracted from the best window logit of a user message (a user legitimately gives instructions); documents get 0. */
  readonly userWindowOffset: number;
  readonly thresholds: { readonly flag: number; readonly block: number };
  readonly provenance: { readonly train: string; readonly dev: string; readonly trainedBy: string; readonly seed: number };
}

/** A model ready to score: the Int8 table stays Int8 (a quarter of the memory of Float32). */
export interface LoadedModel {
  readonly file: ModelFile;
  readonly featurizer: Featurizer;
  readonly table: Int8Array;
}

/** Decodes and checks a model file; fails closed with ERR_GUARD_MODEL on any inconsistency. */
export function loadModel(file: ModelFile): LoadedModel {
  if (file.format !== 'zt4ai-guardian-lr/1') throw new GuardianError('ERR_GUARD_MODEL', `unknown format ${String(file.format)}`);
  const bytes = Buffer.from(file.weights, 'base64');
  if (bytes.length !== 1 << file.spec.bits) throw new GuardianError('ERR_GUARD_MODEL', `weight table has ${bytes.length} entries, expected 2^${file.spec.bits}`);
  for (const x of [file.bias, file.scale, file.platt.a, file.platt.b, file.userWindowOffset, file.thresholds.flag, file.thresholds.block]) {
    if (!Number.isFinite(x)) throw new GuardianError('ERR_GUARD_MODEL', 'a model parameter is not a finite number');
  }
  const table = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  return { file, featurizer: new Featurizer(file.spec), table };
}

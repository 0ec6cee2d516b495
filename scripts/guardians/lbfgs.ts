/**
 * Class-balanced, L2-regularised logistic regression fitted by full-batch L-BFGS. Full batch and no
 * random restarts make training deterministic: the same data gives the same weights, bit for bit.
 */
import type { SparseVector } from '../../enclave-runner/guardians/input/features.js';

export interface FitOptions {
  readonly dim: number;
  readonly l2: number;
  readonly iterations: number;
  readonly history?: number;
  /** Relative weight of each row inside its class (default 1); each class still weighs half in total. */
  readonly sampleWeights?: readonly number[];
  readonly onIteration?: (iteration: number, loss: number) => void;
}

export interface FitResult {
  readonly weights: Float64Array;
  readonly bias: number;
  readonly loss: number;
}

/** Fits weights and bias on `xs` with labels `ys` (1 = injection); each class weighs half the loss. */
export function fitLogistic(xs: readonly SparseVector[], ys: readonly number[], opts: FitOptions): FitResult {
  const n = xs.length;
  const rw = opts.sampleWeights ?? ys.map(() => 1);
  let pos = 0;
  let neg = 0;
  ys.forEach((y, i) => {
    if (y === 1) pos += rw[i]!;
    else neg += rw[i]!;
  });
  const sw = ys.map((y, i) => (rw[i]! * 0.5) / (y === 1 ? pos : neg));
  const dim = opts.dim + 1; // last slot is the bias
  const evaluate = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    const b = w[dim - 1]!;
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      let z = b;
      for (let k = 0; k < x.idx.length; k++) z += w[x.idx[k]!]! * x.val[k]!;
      const y = ys[i]!;
      // log(1 + e^-yz) computed stably
      const m = y === 1 ? -z : z;
      loss += sw[i]! * (m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m)));
      const p = 1 / (1 + Math.exp(-z));
      const d = sw[i]! * (p - y);
      for (let k = 0; k < x.idx.length; k++) g[x.idx[k]!]! += d * x.val[k]!;
      g[dim - 1]! += d;
    }
    for (let j = 0; j < dim - 1; j++) {
      loss += 0.5 * opts.l2 * w[j]! * w[j]!;
      g[j]! += opts.l2 * w[j]!;
    }
    return loss;
  };
  const w = lbfgs(evaluate, dim, opts.iterations, opts.history ?? 10, opts.onIteration);
  return { weights: w.x.subarray(0, dim - 1), bias: w.x[dim - 1]!, loss: w.f };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function lbfgs(f: (x: Float64Array, g: Float64Array) => number, dim: number, iterations: number, m: number, onIteration?: (i: number, loss: number) => void): { x: Float64Array; f: number } {
  let x = new Float64Array(dim);
  let g = new Float64Array(dim);
  let fx = f(x, g);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const rhos: number[] = [];
  for (let it = 0; it < iterations; it++) {
    const d = direction(g, ss, ys, rhos);
    const gd = dot(g, d);
    if (gd >= 0) break;
    let step = it === 0 ? 1 / Math.sqrt(dot(g, g)) : 1;
    const xn = new Float64Array(dim);
    const gn = new Float64Array(dim);
    let fn = 0;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < dim; j++) xn[j] = x[j]! + step * d[j]!;
      fn = f(xn, gn);
      if (fn <= fx + 1e-4 * step * gd) break;
      step *= 0.5;
    }
    const s = new Float64Array(dim);
    const y = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      s[j] = xn[j]! - x[j]!;
      y[j] = gn[j]! - g[j]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      ss.push(s);
      ys.push(y);
      rhos.push(1 / sy);
      if (ss.length > m) {
        ss.shift();
        ys.shift();
        rhos.shift();
      }
    }
    const done = Math.abs(fx - fn) < 1e-9 * Math.max(1, Math.abs(fx));
    x = xn;
    g = gn;
    fx = fn;
    onIteration?.(it, fx);
    if (done) break;
  }
  return { x, f: fx };
}

function direction(g: Float64Array, ss: Float64Array[], ys: Float64Array[], rhos: number[]): Float64Array {
  const q = Float64Array.from(g);
  const alphas: number[] = [];
  for (let i = ss.length - 1; i >= 0; i--) {
    const a = rhos[i]! * dot(ss[i]!, q);
    alphas[i] = a;
    const y = ys[i]!;
    for (let j = 0; j < q.length; j++) q[j]! -= a * y[j]!;
  }
  if (ss.length > 0) {
    const last = ss.length - 1;
    const gamma = dot(ss[last]!, ys[last]!) / dot(ys[last]!, ys[last]!);
    for (let j = 0; j < q.length; j++) q[j]! *= gamma;
  }
  for (let i = 0; i < ss.length; i++) {
    const b = rhos[i]! * dot(ys[i]!, q);
    const s = ss[i]!;
    for (let j = 0; j < q.length; j++) q[j]! += s[j]! * (alphas[i]! - b);
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j]!;
  return q;
}

/**
 * Platt scaling (a sigmoid fitted to logits by Newton's method, with Platt's smoothed targets) and the
 * threshold search. Both run on the dev split only.
 */
export function fitPlatt(zs: readonly number[], ys: readonly number[]): { a: number; b: number } {
  const pos = ys.filter((y) => y === 1).length;
  const neg = ys.length - pos;
  const tPos = (pos + 1) / (pos + 2);
  const tNeg = 1 / (neg + 2);
  let a = 1;
  let b = 0;
  for (let it = 0; it < 100; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < zs.length; i++) {
      const z = zs[i]!;
      const p = 1 / (1 + Math.exp(-(a * z + b)));
      const t = ys[i] === 1 ? tPos : tNeg;
      const d = p - t;
      const w = p * (1 - p);
      ga += d * z;
      gb += d;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { a, b };
}

/** Rounds a threshold down to 4 decimals so the stored value reproduces the decisions exactly. */
export function roundThreshold(x: number): number {
  return Math.floor(x * 1e4) / 1e4;
}

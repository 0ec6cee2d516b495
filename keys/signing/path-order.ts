/**
 * The order of manifest entries, as the reference implementation produces it: Python sorts
 * `PurePosixPath` objects by their list of components, each compared by Unicode code point. Plain string
 * order differs when a name holds a character below "/" at the first difference ("a/b" vs "a.b"), and
 * JavaScript's `<` compares UTF-16 units, not code points; both would change the root digest.
 */

/** Compares two strings by Unicode code point (Python's str order). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** Splits a POSIX relative path the way PurePosixPath does: "." and empty parts vanish. */
export function pathParts(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** PurePosixPath order: component lists compared element-wise, a prefix first. */
export function comparePosixPaths(a: string, b: string): number {
  const pa = pathParts(a);
  const pb = pathParts(b);
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const d = compareCodePoints(pa[i]!, pb[i]!);
    if (d !== 0) return d;
  }
  return pa.length - pb.length;
}

/** Order of shard entries: by path, then start, then end (the reference sorts (path, start, end) tuples). */
export function compareShards(a: { path: string; start: number; end: number }, b: { path: string; start: number; end: number }): number {
  return comparePosixPaths(a.path, b.path) || a.start - b.start || a.end - b.end;
}

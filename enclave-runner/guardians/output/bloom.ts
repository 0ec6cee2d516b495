/** Hashing for the compact Bloom filters of the lexicon (shared with the script that builds them). */

/** Two 32-bit FNV-1a style hashes of a string (different offsets and a final mix), for double hashing. */
export function hashPair(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 13;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 16;
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  return [a >>> 0, (b | 1) >>> 0];
}

/** Sets the key's bits in a Bloom filter of `m` bits and `k` hashes (used by the build script). */
export function bloomAdd(bytes: Uint8Array, key: string, m: number, k: number): void {
  const [h1, h2] = hashPair(key);
  for (let i = 0; i < k; i++) {
    const p = ((h1 + Math.imul(i, h2)) >>> 0) % m;
    bytes[p >>> 3]! |= 1 << (p & 7);
  }
}

/** True when all of the key's bits are set (the key is in the set, or a false positive). */
export function bloomHas(bytes: Uint8Array, key: string, m: number, k: number): boolean {
  const [h1, h2] = hashPair(key);
  for (let i = 0; i < k; i++) {
    const p = ((h1 + Math.imul(i, h2)) >>> 0) % m;
    if ((bytes[p >>> 3]! & (1 << (p & 7))) === 0) return false;
  }
  return true;
}

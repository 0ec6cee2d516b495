import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** A seed for deterministic fixtures: any string or bytes. The same seed and inputs give byte-identical output. */
export type SimSeed = string | Uint8Array;

/** Normalized seed material, or null for the default (fresh randomness on every run). */
export type SeedMaterial = Buffer | null;

export function seedMaterial(seed: SimSeed | undefined): SeedMaterial {
  if (seed === undefined) return null;
  return typeof seed === 'string' ? Buffer.from(seed, 'utf8') : Buffer.from(seed);
}

/**
 * `length` bytes derived from the seed under `label` (HKDF-SHA384), or random bytes without a seed. Labels
 * keep every derived value independent, so adding a new use never shifts the bytes of an existing one.
 */
export function seededBytes(seed: SeedMaterial, label: string, length: number): Buffer {
  if (seed === null) return randomBytes(length);
  return Buffer.from(hkdfSync('sha384', seed, 'zt4ai-sim', label, length));
}

/** HMAC-SHA384 keyed by the seed (via a derived key) over `data`: a per-message value for PSS salts. */
export function seededMac(seed: Buffer, label: string, data: Uint8Array): Buffer {
  return createHmac('sha384', seededBytes(seed, label, 48)).update(data).digest();
}
